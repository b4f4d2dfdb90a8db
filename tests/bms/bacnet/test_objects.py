"""Object ids, object types and property names."""

from __future__ import annotations

import pytest

from bms.bacnet import (
    ObjectId,
    format_object_id,
    is_commandable_type,
    may_be_commandable,
    object_type_name,
    parse_object_id,
    point_kind,
    property_name,
    split_property,
)
from bms.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("analog-input,1", ObjectId("analog-input", 1)),
        ("analog-input:1", ObjectId("analog-input", 1)),
        (" analogInput , 7 ", ObjectId("analog-input", 7)),
        ("AI,3", ObjectId("analog-input", 3)),
        ("bo:2", ObjectId("binary-output", 2)),
        ("msv,4", ObjectId("multi-state-value", 4)),
        ("MULTI_STATE_INPUT,5", ObjectId("multi-state-input", 5)),
        ("8,1001", ObjectId("device", 1001)),
        ("proprietary-130,2", ObjectId("proprietary-130", 2)),
        ("130,2", ObjectId("proprietary-130", 2)),
        (("analog-value", 9), ObjectId("analog-value", 9)),
        ((2, 9), ObjectId("analog-value", 9)),
        ("device,4194303", ObjectId("device", 4194303)),
    ],
)
def test_parse(text: str | tuple[str | int, int], expected: ObjectId) -> None:
    assert parse_object_id(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("analog-inptu,1", "unknown BACnet object type"),
        ("analog-input", "expected 'type,instance'"),
        ("analog-input,x", "instance must be a number"),
        ("analog-input,4194304", "instance must be 0..4194303"),
        ("analog-input,1,2", "expected 'type,instance'"),
        ("99,1", "unknown BACnet object type code 99"),
    ],
)
def test_parse_errors_name_the_text(text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint) as caught:
        parse_object_id(text)
    assert repr(text) in str(caught.value)


def test_format_round_trip() -> None:
    oid = ObjectId("analog-output", 12)
    assert str(oid) == "analog-output,12"
    assert format_object_id("AO:12") == "analog-output,12"
    assert parse_object_id(str(oid)) == oid
    assert object_type_name("networkPort") == "network-port"


def test_property_names() -> None:
    assert property_name("presentValue") == "present-value"
    assert property_name("present_value") == "present-value"
    assert property_name("Present-Value") == "present-value"
    assert split_property("priority-array[8]") == ("priority-array", 8)
    assert split_property("statusFlags") == ("status-flags", None)
    with pytest.raises(ConfigError, match="bad BACnet property"):
        split_property("present value[")


def test_commandable_and_kinds() -> None:
    assert is_commandable_type("analog-output") and is_commandable_type("binary-output")
    assert not is_commandable_type("analog-value") and may_be_commandable("analog-value")
    assert not may_be_commandable("analog-input")
    assert [point_kind(t) for t in ("analog-input", "binary-value", "multi-state-output", "characterstring-value")] == [
        "number", "bool", "enum", "text",
    ]
