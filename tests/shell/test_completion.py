"""Completion candidates come from the click commands and the session's point ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms.shell import ShellSession, candidates, vocabulary
from tests.cli.fake_api import FakeApi, state


@pytest.fixture
def session(tmp_path: Path) -> ShellSession:
    api = FakeApi(state("room1/temp"), state("room1/sp"), state("ahu1/sat"))
    return ShellSession(api, tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "incomplete", "expected"),
    [
        ("sta", "sta", ["status"]),
        ("poi", "poi", ["point", "points"]),
        ("point ", "", ["priority", "read", "release", "write"]),
        ("point re", "re", ["read", "release"]),
        ("points list --t", "--t", ["--tag"]),
        ("point read room1/", "room1/", ["room1/sp", "room1/temp"]),
        ("point write room1/s", "room1/s", ["room1/sp"]),
        ("history show ahu1/sat --rollup ", "", ["auto", "raw", "15m", "1h", "1d"]),
        ("debug ", "", ["on", "off"]),
        ("watch ro", "ro", ["room1/sp", "room1/temp"]),
        ("trend a", "a", ["ahu1/sat"]),
        ("point write room1/sp 23 --pri", "--pri", ["--priority"]),
        ("point \\\nre", "re", ["read", "release"]),
    ],
)
def test_candidates(session: ShellSession, text: str, incomplete: str, expected: list[str]) -> None:
    word, found = candidates(vocabulary, session, text)
    assert word == incomplete
    assert sorted(found) == sorted(expected)


def test_every_shell_word_is_offered_and_the_daemon_is_not(session: ShellSession) -> None:
    _word, found = candidates(vocabulary, session, "")
    assert {"status", "points", "point", "history", "watch", "trend", "debug", "help", "exit", "config"} <= set(found)
    assert "daemon" not in found and "shell" not in found


def test_an_open_quote_or_an_unknown_command_offers_nothing(session: ShellSession) -> None:
    assert candidates(vocabulary, session, 'point read "roo')[1] == []
    assert candidates(vocabulary, session, "nosuch ")[1] == []


def test_point_ids_are_fetched_once_then_cached(session: ShellSession) -> None:
    api = session.client
    for _ in range(3):
        candidates(vocabulary, session, "point read r")
    assert api.calls == ["points"]  # type: ignore[attr-defined]
