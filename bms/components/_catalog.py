"""``MessageCatalog``: every message type of a site, the core's and each component's.

Messages are tagged msgspec Structs (``{"type": "ValueChanged", ...}``); the
catalog decodes the tagged JSON of any of them (the live stream, MQTT
payloads, exports) and gives their JSON schemas to the API document. Each
platform builds its own catalog from the components it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Union

import msgspec

from bms.errors import CodecError


class MessageCatalog:
    def __init__(self, types: Iterable[type[msgspec.Struct]]) -> None:
        by_tag: dict[str, type[msgspec.Struct]] = {}
        for cls in types:
            tag = cls.__struct_config__.tag
            if not isinstance(tag, str):
                raise TypeError(f"{cls.__name__} is not a tagged message (subclass bms.messages.Message)")
            other = by_tag.get(tag)
            if other is not None and other is not cls:
                raise TypeError(f"two message types are tagged {tag!r}: {other.__module__}.{other.__qualname__} "
                                f"and {cls.__module__}.{cls.__qualname__}")
            by_tag[tag] = cls
        self._types = dict(sorted(by_tag.items()))
        union: Any = Union[tuple(self._types.values())] if self._types else Any
        self._decoder = msgspec.json.Decoder(union)

    def __contains__(self, cls: object) -> bool:
        return cls in self._types.values()

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return list(self._types)

    def types(self) -> list[type[msgspec.Struct]]:
        return list(self._types.values())

    def decode(self, data: bytes | str) -> Any:
        """The message encoded in ``data``; an unknown type or a bad field is a CodecError naming it."""
        try:
            return self._decoder.decode(data)
        except msgspec.DecodeError as err:
            raise CodecError(f"cannot decode message: {err}") from None

    def schemas(self, ref_template: str = "#/components/schemas/{name}") -> dict[str, Any]:
        """JSON schemas of every message, by name, for an OpenAPI document's components."""
        _, components = msgspec.json.schema_components(self._types.values(), ref_template=ref_template)
        return components
