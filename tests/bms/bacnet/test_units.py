"""Engineering units: the table, symbols and reverse lookup."""

from __future__ import annotations

import pytest
from bacpypes3.basetypes import EngineeringUnits

from bms.bacnet import NO_UNITS, UNITS, unit_code, unit_name, unit_symbol


@pytest.mark.parametrize(
    ("code", "name", "symbol"),
    [
        (62, "degrees-celsius", "°C"),
        (64, "degrees-fahrenheit", "°F"),
        (98, "percent", "%"),
        (48, "kilowatts", "kW"),
        (19, "kilowatt-hours", "kWh"),
        (95, "no-units", ""),
        (29, "percent-relative-humidity", "%RH"),
        (87, "liters-per-second", "L/s"),
        (84, "cubic-feet-per-minute", "cfm"),
        (53, "pascals", "Pa"),
        (58, "inches-of-water", "inH₂O"),
        (96, "parts-per-million", "ppm"),
        (104, "revolutions-per-minute", "rpm"),
        (121, "delta-degrees-kelvin", "ΔK"),
        (135, "cubic-meters-per-hour", "m³/h"),
        (232, "decibelsA", "dBA"),
        (253, "pascal-seconds", "Pa·s"),
    ],
)
def test_known_codes(code: int, name: str, symbol: str) -> None:
    assert UNITS[code] == (name, symbol)
    assert unit_symbol(code) == symbol
    assert unit_symbol(name) == symbol
    assert unit_name(code) == name


def test_table_is_bacpypes3_enumeration() -> None:
    expected = {code: name for code, name in EngineeringUnits._asn1_map.items()}
    assert {code: name for code, (name, _) in UNITS.items()} == expected
    assert len(UNITS) == 253


def test_camel_case_names_and_unknowns() -> None:
    assert unit_symbol("degreesCelsius") == "°C"
    assert unit_symbol("kilowattHours") == "kWh"
    assert unit_symbol(9999) == ""  # vendor-proprietary
    assert unit_symbol("furlongs") == ""
    assert unit_name(300) == "units-300"


@pytest.mark.parametrize(
    ("text", "code"),
    [("°C", 62), ("°F", 64), ("%", 98), ("kWh", 19), ("", NO_UNITS), ("degC", 62), ("L/s", 87), ("l/s", 87),
     ("percent", 98), ("DEGREES-CELSIUS", 62), ("kilowattHours", 19), (48, 48), ("°", 90), ("mW", 132), ("MW", 49)],
)
def test_unit_code(text: str | int, code: int) -> None:
    assert unit_code(text) == code


def test_unit_code_unknown() -> None:
    assert unit_code("furlongs") is None
    assert unit_code(9999) is None


def test_every_unique_symbol_round_trips() -> None:
    seen: dict[str, list[int]] = {}
    for code, (_, symbol) in UNITS.items():
        seen.setdefault(symbol, []).append(code)
    for symbol, codes in seen.items():
        if len(codes) == 1:
            assert unit_code(symbol) == codes[0], symbol
        else:
            assert unit_code(symbol) in codes, symbol
