"""Object identifiers, object types and property names: pure helpers.

An object id is written ``"analog-input,1"`` (type, instance) everywhere in
bms: profiles, the CLI, the discovery store. Parsing also accepts
``type:instance``, camelCase types (``analogInput``), the numeric type code
and the usual abbreviations (``AI,1``). Property names are the hyphenated
BACnet names (``present-value``); ``presentValue`` and ``present_value`` are
accepted and normalised.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bms.errors import ConfigError

OBJECT_TYPES: dict[str, int] = {
    name: code for code, name in enumerate((
        "analog-input", "analog-output", "analog-value", "binary-input", "binary-output",
        "binary-value", "calendar", "command", "device", "event-enrollment", "file", "group",
        "loop", "multi-state-input", "multi-state-output", "notification-class", "program",
        "schedule", "averaging", "multi-state-value", "trend-log", "life-safety-point",
        "life-safety-zone", "accumulator", "pulse-converter", "event-log", "global-group",
        "trend-log-multiple", "load-control", "structured-view", "access-door", "timer",
        "access-credential", "access-point", "access-rights", "access-user", "access-zone",
        "credential-data-input", "network-security", "bitstring-value", "characterstring-value",
        "date-pattern-value", "date-value", "datetime-pattern-value", "datetime-value",
        "integer-value", "large-analog-value", "octetstring-value", "positive-integer-value",
        "time-pattern-value", "time-value", "notification-forwarder", "alert-enrollment",
        "channel", "lighting-output", "binary-lighting-output", "network-port",
        "elevator-group", "escalator", "lift", "staging", "audit-log", "audit-reporter",
    ))
}
"""Standard object type names (ASHRAE 135) and their codes; 128 and up are proprietary."""

ABBREVIATIONS = {
    "ai": "analog-input", "ao": "analog-output", "av": "analog-value",
    "bi": "binary-input", "bo": "binary-output", "bv": "binary-value",
    "msi": "multi-state-input", "mso": "multi-state-output", "msv": "multi-state-value",
    "dev": "device", "np": "network-port", "sch": "schedule", "cal": "calendar",
    "tl": "trend-log", "nc": "notification-class", "lav": "large-analog-value",
    "iv": "integer-value", "piv": "positive-integer-value", "csv": "characterstring-value",
}

ALWAYS_COMMANDABLE = frozenset({
    "analog-output", "binary-output", "multi-state-output", "lighting-output",
    "binary-lighting-output", "access-door",
})
"""Types whose present value is always commanded through a priority array."""

MAYBE_COMMANDABLE = frozenset({
    "analog-value", "binary-value", "multi-state-value", "integer-value",
    "positive-integer-value", "large-analog-value", "characterstring-value",
    "octetstring-value", "bitstring-value", "date-value", "time-value", "datetime-value",
    "date-pattern-value", "time-pattern-value", "datetime-pattern-value", "channel",
})
"""Types that are commandable when the device gives them a priority array."""

ANALOG_TYPES = frozenset({
    "analog-input", "analog-output", "analog-value", "large-analog-value", "integer-value",
    "positive-integer-value", "accumulator", "pulse-converter", "averaging", "loop",
})
"""Types whose present value is a number with engineering units."""

BINARY_TYPES = frozenset({"binary-input", "binary-output", "binary-value", "binary-lighting-output"})
MULTISTATE_TYPES = frozenset({"multi-state-input", "multi-state-output", "multi-state-value"})

POINT_TYPES = frozenset(
    ANALOG_TYPES | BINARY_TYPES | MULTISTATE_TYPES | ALWAYS_COMMANDABLE | MAYBE_COMMANDABLE
    | {"schedule", "life-safety-point", "life-safety-zone", "timer", "staging", "credential-data-input"}
)
"""Types that carry a present value worth reading as a point."""

STATUS_FLAG_NAMES = ("in-alarm", "fault", "overridden", "out-of-service")
"""The four BACnet status flags, in bit order."""

MAX_APDU_SIZES = (50, 128, 206, 480, 1024, 1476)
"""The maximum APDU lengths a BACnet device may declare."""


class ObjectId(NamedTuple):
    """A BACnet object identifier; ``str()`` gives ``"analog-input,1"``."""

    type: str
    instance: int

    def __str__(self) -> str:
        return f"{self.type},{self.instance}"


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TYPE_NAMES = {code: name for name, code in OBJECT_TYPES.items()}
MAX_INSTANCE = 4_194_303


def object_type_name(text: str | int) -> str:
    """The hyphenated name of an object type given by name, camelCase, abbreviation or code."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text in _TYPE_NAMES:
            return _TYPE_NAMES[text]
        if 128 <= text <= 1023:
            return f"proprietary-{text}"
        raise ConfigError(f"unknown BACnet object type code {text}")
    raw = str(text).strip()
    if raw.isdigit():
        return object_type_name(int(raw))
    name = _CAMEL.sub("-", raw).replace("_", "-").replace(" ", "-").lower()
    name = {"multistate-input": "multi-state-input", "multistate-output": "multi-state-output",
            "multistate-value": "multi-state-value"}.get(name, name)
    if name in OBJECT_TYPES or re.fullmatch(r"proprietary-\d+", name):
        return name
    if name in ABBREVIATIONS:
        return ABBREVIATIONS[name]
    raise ConfigError(f"unknown BACnet object type {raw!r}")


def parse_object_id(text: str | tuple[str | int, int] | ObjectId) -> ObjectId:
    """``"analog-input,1"`` (or ``AI:1``, ``(0, 1)``...) -> ``ObjectId("analog-input", 1)``.

    Raises :class:`ConfigError` naming the text when it is not an object id.
    """
    if isinstance(text, ObjectId):
        return text
    if isinstance(text, tuple):
        if len(text) != 2:
            raise ConfigError(f"bad BACnet object id {text!r}: expected (type, instance)")
        kind, inst = text
    else:
        parts = re.split(r"[,:]", str(text).strip())
        if len(parts) != 2:
            raise ConfigError(f"bad BACnet object id {text!r}: expected 'type,instance' e.g. 'analog-input,1'")
        kind, inst_text = parts
        if not inst_text.strip().isdigit():
            raise ConfigError(f"bad BACnet object id {text!r}: instance must be a number")
        inst = int(inst_text)
    try:
        type_name = object_type_name(kind)
    except ConfigError as err:
        raise ConfigError(f"bad BACnet object id {text!r}: {err}") from None
    if not 0 <= inst <= MAX_INSTANCE:
        raise ConfigError(f"bad BACnet object id {text!r}: instance must be 0..{MAX_INSTANCE}")
    return ObjectId(type_name, inst)


def format_object_id(objid: ObjectId | tuple[str | int, int] | str) -> str:
    """The canonical text of an object id: ``"analog-input,1"``."""
    return str(parse_object_id(objid))


def property_name(text: str) -> str:
    """Normalise a property name: ``presentValue`` / ``present_value`` -> ``present-value``."""
    return _CAMEL.sub("-", text.strip()).replace("_", "-").lower()


def split_property(text: str) -> tuple[str, int | None]:
    """``"priority-array[8]"`` -> ``("priority-array", 8)``; no index gives None."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_-]+)\s*(?:\[\s*(\d+)\s*\])?\s*", text)
    if not match:
        raise ConfigError(f"bad BACnet property {text!r}: expected a name like 'present-value' or 'priority-array[8]'")
    index = match.group(2)
    return property_name(match.group(1)), (int(index) if index is not None else None)


def is_commandable_type(object_type: str) -> bool:
    """True for types that are always commandable (outputs)."""
    return object_type in ALWAYS_COMMANDABLE


def may_be_commandable(object_type: str) -> bool:
    """True for types that are commandable when they have a priority array."""
    return object_type in ALWAYS_COMMANDABLE or object_type in MAYBE_COMMANDABLE


def point_kind(object_type: str) -> str:
    """The bms point kind of an object type's present value: number, bool, enum or text."""
    if object_type in BINARY_TYPES:
        return "bool"
    if object_type in MULTISTATE_TYPES:
        return "enum"
    if object_type in ANALOG_TYPES or object_type in ("lighting-output", "channel", "timer", "staging"):
        return "number"
    return "text"
