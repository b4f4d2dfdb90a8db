"""`bms logic start|stop|reload|status|events`: what each command sends and what it prints (a client stand-in)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result

from actors.components.logic import _cli as logic_cli
from bms.cli._app import cli
from bms.errors import DaemonError
from bms.logic.messages import EngineStatus, LogicEvent, ProgramView, decode_logic_event

T0 = 1_700_000_000.0
EVENTS = [LogicEvent(kind="run", at=T0, program="sat-reset", duration=0.0004),
          LogicEvent(kind="write", at=T0, program="sat-reset", point="ahu1/sat_sp", value=13.5, priority=10),
          LogicEvent(kind="error", at=T0, program="vav101-zone", error="boom", fault="error"),
          LogicEvent(kind="engine", at=T0, detail="stopLogic by olivia")]


class Client:
    def __init__(self, down: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = down
        self.scheduler = "running"

    def _status(self) -> EngineStatus:
        return EngineStatus(scheduler=self.scheduler, stopped_by="olivia" if self.scheduler == "stopped" else "",
                            bundle="1.0.0", health="Healthy", programs=[ProgramView(name="sat-reset")])

    def get(self, path: str, kind: Any, params: Any = None) -> Any:
        self.sent.append(("GET", path))
        return self._status()

    def post(self, path: str, kind: Any, body: Any = None, **_: Any) -> Any:
        self.sent.append(("POST", path))
        self.scheduler = "stopped" if path.endswith("/stop") else "running"
        return self._status()

    @contextmanager
    def events(self, path: str, params: Any = None, decoder: Any = None, **_: Any) -> Iterator[Iterator[Any]]:
        self.sent.append(("STREAM", path))
        if self.down:
            raise DaemonError("no bms daemon is running on /tmp/x; start it with `bms daemon --data /tmp/x`")
        yield iter([decoder(msgspec.json.encode(e)) for e in EVENTS])


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Client:
    made = Client()
    monkeypatch.setattr(logic_cli, "connect", lambda data: made)
    monkeypatch.setattr(logic_cli.console, "width", 160)
    return made


def bms(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(("command", "method", "path"), [
    ("status", "GET", "/api/logic/status"), ("start", "POST", "/api/logic/start"),
    ("stop", "POST", "/api/logic/stop"), ("reload", "POST", "/api/logic/reload")])
def test_each_control_command_calls_its_route_and_shows_the_engine(client: Client, command: str, method: str,
                                                                    path: str) -> None:
    done = bms("logic", command)
    assert done.exit_code == 0, done.output
    assert client.sent == [(method, path)]
    assert "scheduler" in done.output and "bundle 1.0.0" in done.output and "sat-reset" in done.output
    as_json = bms("logic", command, "--json")
    assert json.loads(as_json.output)["scheduler"] == ("stopped" if command == "stop" else "running")


def test_events_follows_the_stream_as_lines_or_json_lines(client: Client) -> None:
    done = bms("logic", "events", "--count", "3")
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert len(lines) == 3 and "run" in lines[0] and "ahu1/sat_sp @10 = 13.5" in lines[1] and "boom" in lines[2]
    only = bms("logic", "events", "--program", "vav101-zone", "--json")
    assert [decode_logic_event(line).kind for line in only.output.splitlines()] == ["error"]


def test_events_without_a_daemon_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logic_cli, "connect", lambda data: Client(down=True))
    done = bms("logic", "events")
    assert done.exit_code == 1 and done.output.startswith("error: ") and done.output.count("\n") == 1, done.output
