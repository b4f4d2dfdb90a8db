"""`bms point write` when the device does not take the value: the command is kept, one red line, exit 1."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from bms.cli import _points as points_cli
from bms.cli._app import cli
from bms.messages import WriteAccepted, WriteResult


class Client:
    def __init__(self, device: WriteResult | None) -> None:
        self.device = device
        self.waits: list[float] = []

    def write(self, point_id: str, value: Any, priority: int = 8, duration: float | None = None,
              wait: float = 0.0) -> WriteAccepted:
        self.waits.append(wait)
        return WriteAccepted(point_id=point_id, effective=value, active_priority=priority, priority=priority,
                             request_id="r7", device=self.device)

    def relinquish(self, point_id: str, priority: int = 8, wait: float = 0.0) -> WriteAccepted:
        self.waits.append(wait)
        return WriteAccepted(point_id=point_id, effective=250.0, active_priority=None, priority=priority,
                             request_id="r8", device=self.device)

    def close(self) -> None:
        pass


def run(monkeypatch: pytest.MonkeyPatch, client: Client, *args: str) -> Any:
    monkeypatch.setattr(points_cli, "connect", lambda data: client)
    return CliRunner().invoke(cli, ["point", "write", "meter1/demand_limit", *args], catch_exceptions=False)


def test_a_refusal_by_the_device_is_one_red_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(WriteResult("meter1/demand_limit", False, "r7", error="exception 3 (illegal data value)"))
    result = run(monkeypatch, client, "300")
    assert result.exit_code == 1
    assert result.stdout.startswith("meter1/demand_limit: wrote 300 at priority 8")
    assert result.stderr.strip() == ("error: meter1/demand_limit: the device did not take the value: "
                                     "exception 3 (illegal data value) (the command stays at priority 8)")
    assert client.waits == [5.0]


def test_the_read_back_is_shown_and_wait_is_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(WriteResult("meter1/demand_limit", True, "r7", readback=300.0))
    result = run(monkeypatch, client, "300", "--wait", "2")
    assert result.exit_code == 0, result.stderr
    assert "meter1/demand_limit: the device took it, reads back 300.0" in result.stdout
    assert client.waits == [2.0]
    refused = run(monkeypatch, Client(None), "300", "--wait", "61")
    assert refused.exit_code == 1 and "--wait" in refused.stderr


def release(monkeypatch: pytest.MonkeyPatch, client: Client, *args: str) -> Any:
    monkeypatch.setattr(points_cli, "connect", lambda data: client)
    return CliRunner().invoke(cli, ["point", "release", "meter1/demand_limit", *args], catch_exceptions=False)


def test_release_waits_for_the_device_as_write_does(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(WriteResult("meter1/demand_limit", True, "r8", readback=250.0))
    result = release(monkeypatch, client, "--priority", "8")
    assert result.exit_code == 0, result.stderr
    assert "meter1/demand_limit: released priority 8; effective 250.0 from relinquish default" in result.stdout
    assert "meter1/demand_limit: the device took it, reads back 250.0" in result.stdout
    assert client.waits == [5.0]


def test_a_release_the_device_refuses_exits_1_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(WriteResult("meter1/demand_limit", False, "r8", error="exception 4 (device failure)"))
    result = release(monkeypatch, client, "--wait", "1")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: meter1/demand_limit: the device did not take the release: "
                                     "exception 4 (device failure)")
    assert client.waits == [1.0]
