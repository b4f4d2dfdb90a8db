"""suggest_tags: markers from names, object types and units."""

from __future__ import annotations

import pytest

from bms.model import suggest_tags

CASES: list[tuple[str, str | None, str | None, set[str]]] = [
    ("Supply Air Temp", None, None, {"air", "temp", "sensor", "supply"}),
    ("SupplyAirTemp", None, None, {"air", "temp", "sensor", "supply"}),
    ("Zone Temp Setpoint", None, None, {"zone", "air", "temp", "sp"}),
    ("Zone Temp Set Point", "analog-value", None, {"zone", "air", "temp", "sp"}),
    ("Fan Speed Command", "analog-output", None, {"fan", "speed", "cmd"}),
    ("Outside Air Damper", None, None, {"outside", "air", "damper"}),
    ("Outside Air Damper", "analog-output,3", None, {"outside", "air", "damper", "cmd"}),
    ("Outside Air Damper", "analog-input", None, {"outside", "air", "damper", "sensor"}),
    ("Demand", None, "kW", {"power", "sensor"}),
    ("Total", "input", "kWh", {"energy", "sensor"}),
    ("Meter Reading", None, "kilowatt-hours", {"energy", "sensor"}),
    ("SAT", "analog-input", "°C", {"supply", "air", "temp", "sensor"}),
    ("RAT", None, None, {"return", "air", "temp", "sensor"}),
    ("MAT", None, None, {"mixed", "air", "temp", "sensor"}),
    ("OAT", "analogInput", None, {"outside", "air", "temp", "sensor"}),
    ("DAT", None, None, {"discharge", "air", "temp", "sensor"}),
    ("ZNT", None, None, {"zone", "air", "temp", "sensor"}),
    ("SAT_SP", None, None, {"supply", "air", "temp", "sp"}),
    ("AHU1 SAT SP", "analog-value", "degC", {"supply", "air", "temp", "sp"}),
    ("Fan CMD", "binary-output", None, {"fan", "cmd"}),
    ("Fan STS", "binary-input", None, {"fan", "run", "sensor"}),
    ("Fan Status", "binary-output", None, {"fan", "run", "cmd"}),
    ("Zone CO2", "analog-input", "ppm", {"zone", "air", "co2", "sensor"}),
    ("ZoneCO2", None, None, {"zone", "air", "co2", "sensor"}),
    ("Room Humidity", None, "%RH", {"zone", "air", "humidity", "sensor"}),
    ("Duct Static Pressure", "analog-input", "Pa", {"duct", "air", "pressure", "sensor"}),
    ("CHW Valve", "analog-output", "%", {"chilled", "water", "valve", "cmd"}),
    ("Chilled Water Supply Temp", None, None, {"chilled", "water", "supply", "temp", "sensor"}),
    ("Occupied Cooling Setpoint", "analog-value", None, {"occupied", "cooling", "sp"}),
    ("Pump Enable", "binary-output", None, {"pump", "enable", "cmd"}),
    ("Filter Alarm", "binary-input", None, {"filter", "alarm", "sensor"}),
    ("Relay 1", "coil", None, {"cmd"}),
    ("Phase L1 Current", "holding", "A", {"current", "sensor"}),
    ("Line Voltage", None, "V", {"volt", "sensor"}),
    ("Serial Number", "holding", None, set()),
]


@pytest.mark.parametrize(("name", "object_type", "unit", "expected"), CASES)
def test_suggested_tags(name: str, object_type: str | None, unit: str | None, expected: set[str]) -> None:
    assert suggest_tags(name, object_type, unit) == expected


def test_a_point_is_at_most_one_of_sensor_sp_cmd() -> None:
    for name, object_type, unit, _ in CASES:
        found = suggest_tags(name, object_type, unit)
        assert len(found & {"sensor", "sp", "cmd"}) <= 1, name
