"""Interlock expressions: the whitelist, evaluation and missing values."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bms.errors import ConfigError
from bms.messages import Value
from bms.points import Interlock, MissingValue

KNOWN = {"ahu1/fan_status", "ahu1/sat", "ahu1/mode", "vav-101/damper.pos", "plant/oat"}
VALUES: Mapping[str, Value] = {
    "ahu1/fan_status": 1, "ahu1/sat": 18.5, "ahu1/mode": "occupied", "vav-101/damper.pos": 40.0, "plant/oat": -3.0,
}


@pytest.mark.parametrize(("expression", "expected"), [
    ("ahu1/fan_status == 1 and ahu1/sat < 30", True),
    ("ahu1/fan_status == 1 and ahu1/sat < 18", False),
    ("ahu1/fan_status", True),
    ("not ahu1/fan_status", False),
    ("ahu1/fan_status == True", True),  # 1 == True, as BACnet binaries read back
    ("ahu1/sat > 30 or plant/oat < -2", True),
    ("plant/oat >= -3.0", True),
    ("10 < ahu1/sat <= 18.5", True),
    ("ahu1/mode == 'occupied'", True),
    ('ahu1/mode != "occupied"', False),
    ("(vav-101/damper.pos > 20) and not (plant/oat > 5)", True),
    ("True", True),
])
def test_evaluation(expression: str, expected: bool) -> None:
    assert Interlock(expression, KNOWN).permits(VALUES) is expected


def test_points_are_listed_once() -> None:
    assert Interlock("ahu1/sat > 1 and ahu1/sat < 30 or plant/oat > 0", KNOWN).points == ("ahu1/sat", "plant/oat")


def test_a_point_id_inside_a_string_is_not_a_reference() -> None:
    lock = Interlock("ahu1/mode == 'ahu1/other'", KNOWN)
    assert lock.points == ("ahu1/mode",)
    assert lock.permits(VALUES) is False


@pytest.mark.parametrize(("expression", "problem"), [
    ("__import__('os').system('rm -rf /')", "Call is not allowed"),
    ("ahu1/sat.real > 1", "unknown point 'ahu1/sat.real'"),
    ("ahu1/sat + 1 > 2", "BinOp is not allowed"),
    ("ahu1/sat in (1, 2)", "comparison In is not allowed"),
    ("ahu1/sat is None", "comparison Is is not allowed"),
    ("x > 1", "unknown name 'x'"),
    ("-ahu1/sat < 0", "a sign is only allowed before a number"),
    ("ahu1/sat if True else 0", "IfExp is not allowed"),
    ("[ahu1/sat]", "List is not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("ahu1/sat <", "not a valid expression"),
    ("ahu1/nope > 1", "unknown point 'ahu1/nope'"),
    ("__point_0 > 1", "reserved"),
    ("None", "Constant is not allowed"),
    ("not " * 5000 + "True", "nested too deeply"),
])
def test_anything_else_is_a_config_error_naming_the_expression(expression: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Interlock(expression, KNOWN, where="ahu1/heat_cmd: guard.interlock")
    message = str(caught.value)
    assert message.startswith(f"ahu1/heat_cmd: guard.interlock: {expression!r}: ")
    assert problem in message


def test_missing_values_are_reported() -> None:
    lock = Interlock("ahu1/fan_status == 1 or ahu1/sat < 30", KNOWN)
    with pytest.raises(MissingValue) as caught:
        lock.permits({"ahu1/fan_status": 1})
    assert caught.value.point_id == "ahu1/sat"
