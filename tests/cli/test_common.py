"""Pure parts of the operator commands: values, times, unknown-point hints, the id cache."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from bms.cli._common import Connection, close_matches, parse_time, parse_value, unknown_point_message
from bms.errors import ConfigError
from tests.cli.fake_api import FakeApi, state

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("FALSE", False), ("null", None), ("Null", None),
        ("23", 23), ("-5", -5), ("+7", 7), ("22.5", 22.5), ("-0.25", -0.25), (".5", 0.5), ("1e3", 1000.0),
        ("on", "on"), ("occupied", "occupied"), ("1_000", "1_000"), ("nan", "nan"), ("inf", "inf"), ("1e999", "1e999"),
        ("12abc", "12abc"), ("", ""),
    ],
)
def test_parse_value(text: str, value: object) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW), ("1h", NOW - 3600), ("-1h30m", NOW - 5400), ("90s", NOW - 90), ("-90", NOW - 90),
        ("+15m", NOW + 900), ("2d", NOW - 172800), ("1700000123", 1_700_000_123.0),
        ("2023-11-14T22:13:20+00:00", NOW),
    ],
)
def test_parse_time(text: str, expected: float) -> None:
    assert parse_time(text, NOW) == pytest.approx(expected)


def test_naive_date_time_is_local() -> None:
    assert parse_time("2026-11-22T10:00", NOW) == datetime(2026, 11, 22, 10, 0).timestamp()


def test_what_operators_type_is_local_time() -> None:
    today = datetime.fromtimestamp(NOW).date()
    assert parse_time("yesterday", NOW) == datetime.combine(today - timedelta(days=1), time()).timestamp()
    assert parse_time("2026-12-01", NOW) == datetime(2026, 12, 1).timestamp()
    at_one = datetime.combine(today, time(13, 0)).timestamp()
    assert parse_time("13:00", NOW) == (at_one if at_one <= NOW else at_one - 86400)


@pytest.mark.parametrize("text", ["banana", "1x", "2026-13-40", "25:61"])
def test_parse_time_refuses_nonsense_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match=f"invalid time {text!r}"):
        parse_time(text, NOW)


KNOWN = ["room1/temp", "room1/sp", "room2/sp", "ahu1/sat"]


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("room1/spp", ["room1/sp"]),
        ("room1/tmp", ["room1/temp"]),
        ("room3/sp", ["room1/sp", "room2/sp"]),
        ("zzz", []),
    ],
)
def test_close_matches(asked: str, expected: list[str]) -> None:
    assert close_matches(asked, KNOWN)[: len(expected)] == expected
    assert all(m in KNOWN for m in close_matches(asked, KNOWN))


def test_unknown_point_message_keeps_the_server_line_and_suggests() -> None:
    msg = unknown_point_message("unknown point 'room1/spp'", "room1/spp", KNOWN)
    assert msg == "unknown point 'room1/spp' (did you mean 'room1/sp'?)"
    assert unknown_point_message("no such thing", "x/y", KNOWN) == "unknown point 'x/y': no such thing"


def test_connection_caches_point_ids_and_refreshes_when_stale(tmp_path: Path) -> None:
    now = [0.0]
    api = FakeApi(state("b/x"), state("a/y"))
    conn = Connection(api, tmp_path, max_age=30, clock=lambda: now[0])  # type: ignore[arg-type]
    assert conn.point_ids() == ["a/y", "b/x"]
    conn.point_ids()
    assert api.calls == ["points"]
    api.states["c/z"] = state("c/z")
    now[0] = 31.0
    assert conn.point_ids() == ["a/y", "b/x", "c/z"]
    assert api.calls == ["points", "points"]


def test_connection_keeps_the_old_ids_when_the_daemon_does_not_answer(tmp_path: Path) -> None:
    api = FakeApi(state("a/y"))
    conn = Connection(api, tmp_path)  # type: ignore[arg-type]
    conn.refresh()
    api.down = True
    assert conn.refresh() == ["a/y"]
