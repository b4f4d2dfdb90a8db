"""Durations and instants as people type them (pure functions)."""

from __future__ import annotations

import pytest

from bms.api import parse_time
from bms.client import parse_duration
from bms.errors import ConfigError

NOW = 1_700_000_000.0


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("1h", 3600.0), ("1h30m", 5400.0), ("90m", 5400.0),
    ("2d", 172800.0), ("1w", 604800.0), ("1.5h", 5400.0), ("0.5", 0.5), (" 1H 30M ", 5400.0),
    ("1d2h3m4s", 93784.0), ("30m1h", 5400.0),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "message"), [
    ("", "invalid duration '': use seconds or e.g. 90s, 15m, 1h30m, 2d"),
    ("15 minutes", "invalid duration '15 minutes': use seconds or e.g. 90s, 15m, 1h30m, 2d"),
    ("1h-30m", "invalid duration '1h-30m': use seconds or e.g. 90s, 15m, 1h30m, 2d"),
    ("h", "invalid duration 'h': use seconds or e.g. 90s, 15m, 1h30m, 2d"),
    ("0", "invalid duration '0': must be more than zero"),
    ("0m", "invalid duration '0m': must be more than zero"),
    ("-5", "invalid duration '-5': must be more than zero"),
    ("nan", "invalid duration 'nan': must be more than zero"),
    ("inf", "invalid duration 'inf': must be more than zero"),
])
def test_parse_duration_refuses(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_duration(text)
    assert str(err.value) == message


@pytest.mark.parametrize(("text", "instant"), [
    ("now", NOW), ("NOW", NOW), ("-1h", NOW - 3600), ("-1h30m", NOW - 5400), ("+15m", NOW + 900),
    ("-90", NOW - 90), ("1700000000", 1_700_000_000.0), ("1699999999.5", 1_699_999_999.5),
    ("2023-11-14T22:13:20Z", NOW), ("2023-11-14T23:13:20+01:00", NOW), ("2023-11-14T22:13:20", NOW),
    ("2023-11-14", 1_699_920_000.0), (" -1h ", NOW - 3600),
])
def test_parse_time(text: str, instant: float) -> None:
    assert parse_time(text, NOW) == instant


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty time: use epoch seconds, now, -1h or ISO 8601"),
    ("yesterday", "invalid time 'yesterday': use epoch seconds, now, -1h or ISO 8601"),
    ("-1x", "invalid time '-1x': use epoch seconds, now, -1h or ISO 8601"),
    ("-0", "invalid time '-0': use epoch seconds, now, -1h or ISO 8601"),
    ("1e400", "time '1e400' is out of range (1970 to 5000)"),
    ("nan", "time 'nan' is out of range (1970 to 5000)"),
    ("-100000w", "time '-100000w' is out of range (1970 to 5000)"),
    ("2023-13-01", "invalid time '2023-13-01': use epoch seconds, now, -1h or ISO 8601"),
])
def test_parse_time_refuses(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_time(text, NOW)
    assert str(err.value) == message
