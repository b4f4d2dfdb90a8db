"""Strict input: every body and query parameter is exactly its declared type.

Litestar decodes a JSON body into plain Python objects (recursively, so a
body nested 1,000 levels deep raised RecursionError: a 500) and then
converts the handler's arguments with msgspec in lax mode
(``SignatureModel.parse_values_from_connection_kwargs`` calls
``msgspec.convert(..., strict=False)``), which turns ``"priority": "8"``
into 8 and ``limit=5.0`` into 5. :func:`strict_input` runs before that, as
the app's ``before_request`` hook, on every route:

* a body is refused (400) when it is nested deeper than :data:`MAX_DEPTH`
  arrays/objects, before anything decodes it;
* a body is decoded with msgspec in strict mode into the type the handler
  declares for ``data``: a wrong type is a 400 naming the field
  (``$.priority: Expected int, got str``), as the OpenAPI document says;
* a query parameter declared as a number must be a JSON number of that
  type (``limit=5.0`` is refused for an integer).

What passes is then converted by Litestar as before, with the same result
(lax and strict agree on strictly valid input).
"""

from __future__ import annotations

import types
from functools import cache
from typing import Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

MAX_DEPTH = 32
"""Arrays and objects a body may nest (the API's own bodies need 2)."""

_BRACKETS_ONLY = bytes(b for b in range(256) if b not in b"[]{}")


def nesting_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deeply ``body``'s arrays and objects nest (strings ignored); counting stops past ``limit``.

    Runs at C speed whatever the nesting: escapes and strings are cut out,
    brackets kept, then each pass removes the innermost ``[]`` pairs. For
    JSON that is not well formed the figure is an upper bound, which is all
    a refusal needs (a decoder would descend that deep before failing).
    """
    text = body.replace(b"\\\\", b"").replace(b'\\"', b"")  # what is left of a quote opens or closes a string
    outside = b"".join(text.split(b'"')[::2])
    brackets = outside.translate(None, _BRACKETS_ONLY).replace(b"{", b"[").replace(b"}", b"]")
    depth = 0
    while b"[]" in brackets:
        depth += 1
        if depth > limit:
            return depth
        brackets = brackets.replace(b"[]", b"")
    return depth + brackets.count(b"[")  # openers never closed: a decoder would go down there too


async def strict_input(request: Request[Any, Any, Any]) -> None:
    """The ``before_request`` hook: refuse a body or query parameter that is not exactly its type."""
    parameters = request.route_handler.parsed_fn_signature.parameters
    for name, raw in request.query_params.multi_items():
        field = parameters.get(name)
        if field is not None and name not in request.path_params and _is_number(field.annotation):
            _check_query(name, raw, field.annotation)
    data = parameters.get("data")
    if data is None:
        return
    body = await request.body()
    if not body:
        return  # no body: the handler's default
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and nesting_depth(body) > MAX_DEPTH:
        raise ValidationException(detail=f"invalid JSON body: nested deeper than {MAX_DEPTH} levels")
    try:
        _decoder(data.annotation).decode(body)
    except msgspec.ValidationError as err:
        raise ValidationException(detail=_where_first(str(err))) from None
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar's own refusal says where ("invalid JSON body: ...")


@cache
def _decoder(annotation: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(annotation)  # strict by default


def _is_number(annotation: Any) -> bool:
    """``int``, ``float`` or an optional one (bool is not a number here)."""
    members = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    kinds = {m for m in members if m is not type(None)}
    return bool(kinds) and kinds <= {int, float}


def _check_query(name: str, raw: str, annotation: Any) -> None:
    try:
        msgspec.json.decode(raw, type=annotation)
        return
    except msgspec.ValidationError as err:  # a number of the wrong kind: ``Expected int, got float``
        problem = str(err)
    except msgspec.DecodeError:  # not a number at all: msgspec's own words for a string
        problem = _refusal(raw, annotation)
    raise ValidationException(detail=f"query parameter {name!r}: {problem.split(' - at ', 1)[0].replace('`', '')}")


def _refusal(value: str, annotation: Any) -> str:
    try:
        msgspec.convert(value, annotation, strict=True)
    except msgspec.ValidationError as err:
        return str(err)
    return f"not a valid {annotation}"  # not reached: a number type never takes a string


def _where_first(problem: str) -> str:
    """``Expected `int`, got `str` - at `$.priority``` -> ``$.priority: Expected int, got str``."""
    message, _, where = problem.partition(" - at ")
    return f"{where.strip('`') or '$'}: {message.replace('`', '')}"
