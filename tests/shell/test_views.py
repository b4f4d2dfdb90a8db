"""The shell's `watch NAME` runs a component's view (`watch-NAME`); its toolbar gathers the components' status."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from bms.shell import _repl, _watch
from bms.shell._vocabulary import vocabulary


def test_watch_name_runs_the_components_view(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []

    @click.command("watch-alarms")
    def view() -> None:
        ran.append("alarms")

    monkeypatch.setattr(_watch, "shell_words", lambda: {"watch-alarms": view})
    result = CliRunner().invoke(vocabulary, ["watch", "alarms"])
    assert result.exit_code == 0, result.output
    assert ran == ["alarms"]


class Session:
    client = object()


def test_the_toolbar_joins_what_each_component_says_and_skips_one_that_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(client: Any) -> str:
        raise RuntimeError("no daemon")

    monkeypatch.setattr(_repl, "toolbar_parts", lambda: [lambda c: "alarms: 2 unacknowledged, 3 active", broken,
                                                         lambda c: "logic: 4 programs"])
    assert _repl.toolbar(Session()) == "alarms: 2 unacknowledged, 3 active | logic: 4 programs"  # type: ignore[arg-type]
    monkeypatch.setattr(_repl, "toolbar_parts", lambda: [broken])
    assert _repl.toolbar(Session()) is None  # type: ignore[arg-type]
