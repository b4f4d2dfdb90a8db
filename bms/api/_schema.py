"""OpenAPI schemas of Structs exactly as msgspec enforces them.

Litestar documents a Struct's fields itself, with three gaps: unions become
``oneOf`` (so ``21.0``, a number and an integer, matches twice), constraints
inside an optional field (``duration > 0 | null``) are dropped, and
``forbid_unknown_fields`` is not said. This plugin keeps Litestar's
component (and its references to nested Structs) and replaces every other
property schema with msgspec's own, so the document and the decoder agree.
It extends Litestar's Struct plugin, which lives in a private module (hence
litestar<3 in the requirements).

Litestar also marks every request body required; :func:`optional_bodies`
says the truth for the routes whose body may be left out.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPI, OpenAPIType, Operation, Reference, RequestBody, Schema

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

_NESTED_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_NESTED_ONE = ("items", "additionalProperties", "not")


class StrictStructSchema(StructSchemaPlugin):
    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct = field_definition.type_
        _, components = msgspec.json.schema_components([struct])
        spec = components.get(struct.__name__, {})
        for name, prop in spec.get("properties", {}).items():
            if schema.properties is not None and name in schema.properties and "$ref" not in repr(prop):
                schema.properties[name] = to_schema(prop)
        if spec.get("additionalProperties") is False:
            schema.additional_properties = False
        return schema


def to_schema(spec: dict[str, Any]) -> Schema:
    """A Litestar Schema from a JSON-schema dict (as msgspec writes it)."""
    return _convert(spec)  # type: ignore[return-value]  # a top-level spec is never a bare reference


def _convert(spec: dict[str, Any]) -> Schema | Reference:
    if set(spec) == {"$ref"}:
        return Reference(ref=spec["$ref"])
    if "$ref" in spec:  # a reference with a default (a Struct-valued field): allOf keeps both
        rest = {k: v for k, v in spec.items() if k != "$ref"}
        return _convert({**rest, "allOf": [{"$ref": spec["$ref"]}]})
    fields = _schema_fields()
    kwargs: dict[str, Any] = {}
    for key, value in spec.items():
        if key in _NESTED_LISTS:
            value = [_convert(v) for v in value]
        elif key in _NESTED_ONE and isinstance(value, dict):
            value = _convert(value)
        elif key == "properties" and isinstance(value, dict):
            value = {k: _convert(v) for k, v in value.items()}
        elif key == "type":
            value = [OpenAPIType(v) for v in value] if isinstance(value, list) else OpenAPIType(value)
        kwargs[fields.get(key, key)] = value
    return Schema(**kwargs)


@cache
def _schema_fields() -> dict[str, str]:
    """JSON-schema key -> Schema field name (``exclusiveMinimum`` -> ``exclusive_minimum``)."""
    found: dict[str, str] = {}
    for f in dataclasses.fields(Schema):
        alias = f.metadata.get("alias") or re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f.name)
        found[alias] = f.name
    return found


def add_schemas(document: OpenAPI, schemas: Mapping[str, dict[str, Any]]) -> None:
    """Add JSON schemas (the site's messages) to the document's components, keeping those it has."""
    known = document.components.schemas
    for name, spec in schemas.items():
        if name not in known:
            known[name] = to_schema(spec)


def optional_bodies(document: OpenAPI) -> None:
    """Body ``X | None`` means the body may be left out, not that it may be JSON null."""
    for item in (document.paths or {}).values():
        for op in (item.get, item.put, item.post, item.patch, item.delete):
            body = op.request_body if isinstance(op, Operation) else None
            if not isinstance(body, RequestBody):
                continue
            for media in body.content.values():
                schema = media.schema
                if isinstance(schema, Schema) and schema.one_of and len(schema.one_of) == 2:
                    kept = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
                    if len(kept) == 1 and isinstance(kept[0], Reference):
                        media.schema = kept[0]
                        body.required = False
