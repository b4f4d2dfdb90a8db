"""Durations and instants as people type them (pure functions)."""

from __future__ import annotations

from datetime import UTC as UTC_ZONE
from datetime import datetime, timedelta, timezone

import pytest

from bms.api import MAX_DURATION, parse_time
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
    ("", "empty time: use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("banana", "invalid time 'banana': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("25:00", "invalid time '25:00': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("yesterday 9", "invalid time 'yesterday 9': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("-1x", "invalid time '-1x': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("-0", "invalid time '-0': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
    ("1e400", "time '1e400' is out of range (1970 to 5000)"),
    ("nan", "time 'nan' is out of range (1970 to 5000)"),
    ("-100000w", "time '-100000w' is out of range (1970 to 5000)"),
    ("2023-13-01", "invalid time '2023-13-01': use now, -1h, 13:00, yesterday, 2026-12-01, ISO 8601 or epoch seconds"),
])
def test_parse_time_refuses(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_time(text, NOW)
    assert str(err.value) == message


# NOW is 2023-11-14 22:13:20 UTC, 2023-11-15 00:13:20 at UTC+2
PLUS2 = timezone(timedelta(hours=2))
DAY = 86400.0
MIDNIGHT_UTC = 1_699_920_000.0  # 2023-11-14T00:00Z


@pytest.mark.parametrize(("text", "instant"), [
    ("13:00", MIDNIGHT_UTC + 13 * 3600), ("22:13:20", NOW), ("23:00", MIDNIGHT_UTC - DAY + 23 * 3600),
    ("today", MIDNIGHT_UTC), ("yesterday", MIDNIGHT_UTC - DAY), ("Yesterday 13:00", MIDNIGHT_UTC - DAY + 13 * 3600),
    ("2023-11-14", MIDNIGHT_UTC), ("15m", NOW - 900), ("1h30m", NOW - 5400),
])
def test_what_operators_type_in_utc(text: str, instant: float) -> None:
    assert parse_time(text, NOW) == instant


@pytest.mark.parametrize(("text", "local"), [
    ("13:00", datetime(2023, 11, 14, 13, 0, tzinfo=PLUS2)),  # 13:00 on the 15th is still ahead: the 14th's
    ("00:10", datetime(2023, 11, 15, 0, 10, tzinfo=PLUS2)),
    ("yesterday", datetime(2023, 11, 14, tzinfo=PLUS2)),
    ("2026-12-01", datetime(2026, 12, 1, tzinfo=PLUS2)),
    ("2026-12-01T08:30", datetime(2026, 12, 1, 8, 30, tzinfo=PLUS2)),
    ("2026-12-01T08:30Z", datetime(2026, 12, 1, 8, 30, tzinfo=UTC_ZONE)),
])
def test_dates_and_times_of_day_are_in_the_zone_asked(text: str, local: datetime) -> None:
    assert parse_time(text, NOW, PLUS2) == local.timestamp()


def test_local_time_when_no_zone_is_named() -> None:
    assert parse_time("2026-12-01T08:30", NOW, None) == datetime(2026, 12, 1, 8, 30).timestamp()
    assert parse_time("yesterday", NOW, None) == datetime.combine(
        datetime.fromtimestamp(NOW).date() - timedelta(days=1), datetime.min.time()).timestamp()


def test_durations_are_bounded_and_the_refusal_says_the_maximum() -> None:
    assert parse_duration("366d") == MAX_DURATION
    with pytest.raises(ConfigError) as err:
        parse_duration("99999d")
    assert str(err.value) == "invalid duration '99999d': at most 366d"
    assert parse_time("-400d", NOW) == NOW - 400 * DAY  # a time may reach further back than a duration
