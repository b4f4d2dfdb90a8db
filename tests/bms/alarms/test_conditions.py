"""Each condition type as a table: point value, flags and the clock in, in alarm or not (or unknown) out."""

from __future__ import annotations

import pytest

from bms.alarms import (
    AlarmDefinition,
    AlarmSpec,
    ChangeOfState,
    CommandMismatch,
    Condition,
    Deviation,
    DeviceDownAlarm,
    HighLimit,
    LowLimit,
    PointView,
    StaleValue,
    StateAlarm,
    Suppression,
    check_template,
    in_alarm,
    render,
)

NOW = 1000.0
OTHERS = {"vav1/zone_sp": PointView(22.0, 990.0), "ahu1/fan_status": PointView(False, 990.0),
          "ahu1/bad": PointView(1.0, 990.0, ("fault",))}


def lookup(point_id: str) -> PointView | None:
    return OTHERS.get(point_id)


@pytest.mark.parametrize(("cond", "point", "active", "changed_at", "expected"), [
    # limits: deadband relative to the alarm's state
    (HighLimit(limit=28.0, deadband=1.0), PointView(28.5, 999.0), False, None, True),
    (HighLimit(limit=28.0, deadband=1.0), PointView(28.0, 999.0), False, None, False),
    (HighLimit(limit=28.0, deadband=1.0), PointView(27.5, 999.0), True, None, True),  # inside the deadband
    (HighLimit(limit=28.0, deadband=1.0), PointView(26.9, 999.0), True, None, False),
    (LowLimit(limit=12.0, deadband=0.5), PointView(11.9, 999.0), False, None, True),
    (LowLimit(limit=12.0, deadband=0.5), PointView(12.3, 999.0), True, None, True),
    (LowLimit(limit=12.0, deadband=0.5), PointView(12.6, 999.0), True, None, False),
    (HighLimit(limit=28.0), PointView("text", 999.0), False, None, None),
    (HighLimit(limit=28.0), PointView(True, 999.0), False, None, None),  # a boolean is no number
    # unreliable values say nothing
    (HighLimit(limit=28.0), PointView(40.0, 999.0, ("fault",)), False, None, None),
    (HighLimit(limit=28.0), PointView(40.0, 999.0, ("down",)), True, None, None),
    (HighLimit(limit=28.0), PointView(None, 0.0), False, None, None),  # never read
    # deviation from a setpoint point
    (Deviation(setpoint="vav1/zone_sp", band=2.0), PointView(24.5, 999.0), False, None, True),
    (Deviation(setpoint="vav1/zone_sp", band=2.0), PointView(20.5, 999.0), False, None, False),
    (Deviation(setpoint="vav1/zone_sp", band=2.0, deadband=0.5), PointView(23.8, 999.0), True, None, True),
    (Deviation(setpoint="nowhere", band=2.0), PointView(30.0, 999.0), False, None, None),
    (Deviation(setpoint="ahu1/bad", band=2.0), PointView(30.0, 999.0), False, None, None),
    # boolean state, multistate alarm values
    (StateAlarm(), PointView(True, 999.0), False, None, True),
    (StateAlarm(), PointView(False, 999.0), True, None, False),
    (StateAlarm(values=[3, 4]), PointView(4, 999.0), False, None, True),
    (StateAlarm(values=["fault", "alarm"]), PointView("fault", 999.0), False, None, True),
    (StateAlarm(values=["fault"]), PointView("running", 999.0), False, None, False),
    # change of state: active for its hold after a change
    (ChangeOfState(hold=10.0), PointView(True, 995.0), False, 995.0, True),
    (ChangeOfState(hold=10.0), PointView(True, 980.0), True, 980.0, False),
    (ChangeOfState(), PointView(True, 980.0), False, None, False),
    # command mismatch: against a feedback point, or the point's own flag
    (CommandMismatch(feedback="ahu1/fan_status"), PointView(True, 999.0), False, None, True),
    (CommandMismatch(feedback="ahu1/fan_status"), PointView(False, 999.0), True, None, False),
    (CommandMismatch(feedback="ahu1/bad"), PointView(1.0, 999.0), False, None, None),
    (CommandMismatch(), PointView(24.0, 999.0, ("overridden", "mismatch")), False, None, True),
    (CommandMismatch(), PointView(24.0, 999.0, ("overridden",)), True, None, False),
    # stale values and devices down
    (StaleValue(period=300.0), PointView(21.0, 600.0), False, None, True),
    (StaleValue(period=300.0), PointView(21.0, 800.0), False, None, False),
    (StaleValue(period=300.0), PointView(None, 0.0), False, None, None),
    (StaleValue(period=300.0), PointView(21.0, 600.0, ("down",)), False, None, None),
    (DeviceDownAlarm(), PointView(21.0, 600.0, ("down",)), False, None, True),
    (DeviceDownAlarm(), PointView(21.0, 600.0), True, None, False),
])
def test_in_alarm(cond: Condition, point: PointView, active: bool, changed_at: float | None,
                  expected: bool | None) -> None:
    assert in_alarm(cond, point, lookup, active=active, now=NOW, changed_at=changed_at) is expected


def test_a_profile_alarm_names_other_points_of_its_device_by_key() -> None:
    spec = AlarmSpec(condition=Deviation(setpoint="zone_sp", band=2.0), severity="high",
                     suppress=Suppression(point="ahu1/fan_status", settle=600.0))
    d = spec.definition("vav101", "zone_temp")
    assert d == AlarmDefinition(id="vav101/zone_temp:deviation", point="vav101/zone_temp", severity="high",
                                condition=Deviation(setpoint="vav101/zone_sp", band=2.0),
                                suppress=Suppression(point="ahu1/fan_status", settle=600.0))
    assert d.referenced() == ("vav101/zone_sp", "ahu1/fan_status")
    named = AlarmSpec(name="fan", condition=CommandMismatch(feedback="fan_status")).definition("ahu1", "fan_cmd")
    assert (named.id, named.condition) == ("ahu1/fan_cmd:fan", CommandMismatch(feedback="ahu1/fan_status"))


@pytest.mark.parametrize(("template", "problem"), [
    ("{name} is {value}{unit}", None),
    ("{name} above {limit} ({severity})", None),
    ("{nmae} is hot", "unknown field {nmae}"),
    ("{name is hot", "bad template"),
])
def test_templates_are_checked(template: str, problem: str | None) -> None:
    found = check_template(template)
    assert found is None if problem is None else problem in (found or "")


def test_messages_show_the_value_with_its_unit() -> None:
    fields = {"name": "Supply air temperature", "value": 31.25, "unit": "°C", "condition": "above 28"}
    assert render("", fields) == "Supply air temperature above 28: 31.25°C"
    assert render("{name}: {value}{unit}", {"name": "Airflow", "value": 120.0, "unit": "L/s"}) == "Airflow: 120 L/s"
    assert render("{name}: {value}", {"name": "Fan", "value": None}) == "Fan: -"
