"""The README's first command: `bms daemon` on the bundled demo, as a new user runs it.

The demo's simulated BACnet devices (127.0.0.2-5:47808, client 47809) and
Modbus meter (127.0.0.1:15020) start with the daemon; the bridges poll
them, history fills, and a command to the air handler's cooling valve
moves its supply-air temperature. Needs those loopback ports free.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess

ENV = {"COLUMNS": "160", "NO_COLOR": "1"}


def bms(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bms", *args, "--data", str(data)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **ENV})


def points(data: Path) -> dict[str, dict[str, object]]:
    listed = bms(data, "points", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {p["point_id"]: p for p in json.loads(listed.stdout)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, float]]:
    data = tmp_path_factory.mktemp("demo")
    daemon = DaemonProcess(data)  # no --config: the bundled conf/bms.toml and its demo scenario
    try:
        daemon.wait_for_event("running")
        yield data, time.monotonic()
        assert daemon.terminate() == 0
    finally:
        daemon.close()


def test_every_component_is_healthy(demo: tuple[Path, float]) -> None:
    data, _ = demo
    report = json.loads(bms(data, "status", "--json").stdout)
    states = {c["component"]: c["state"] for c in report["components"]}
    assert {"sim-bacnet", "sim-modbus", "bacnet.main", "modbus.meters", "points", "history", "api"} <= set(states)
    assert set(states.values()) == {"Healthy"}, states


def test_live_values_within_seconds_of_start(demo: tuple[Path, float]) -> None:
    data, started = demo
    wait_until(lambda: all(p["value"] is not None for p in points(data).values()), 15, "a value on every point")
    seen = points(data)
    assert len(seen) > 40
    assert 5.0 < float(seen["ahu1/sat"]["value"]) < 35.0  # type: ignore[arg-type]
    assert float(seen["meter1/kw_total"]["value"]) > 0  # type: ignore[arg-type]
    print(f"every point live {time.monotonic() - started:.1f} s after the daemon said running")


def test_history_grows(demo: tuple[Path, float]) -> None:
    data, _ = demo

    def samples() -> int:
        shown = bms(data, "history", "show", "meter1/kw_total", "--since", "10m", "--json")
        assert shown.returncode == 0, shown.stderr
        return len(json.loads(shown.stdout)["samples"])

    wait_until(lambda: samples() >= 1, 15, "a first recorded sample")
    first = samples()
    wait_until(lambda: samples() > first, 15, "the series to grow")


def test_a_command_moves_the_simulated_temperatures(demo: tuple[Path, float]) -> None:
    data, _ = demo
    wait_until(lambda: points(data)["ahu1/sat"]["value"] is not None, 15, "a supply air temperature")
    before = float(points(data)["ahu1/sat"]["value"])  # type: ignore[arg-type]
    wrote = bms(data, "point", "write", "ahu1/clg_valve", "100", "--priority", "8", "--for", "10m")
    assert wrote.returncode == 0, wrote.stderr
    assert "ahu1/clg_valve: the device took it, reads back 100" in wrote.stdout, wrote.stdout  # waited for it
    try:
        wait_until(lambda: float(points(data)["ahu1/sat"]["value"]) < before - 0.5, 60,  # type: ignore[arg-type]
                   "the supply air to cool after opening the cooling valve")
        valve = points(data)["ahu1/clg_valve"]
        assert valve["value"] == 100.0 and "overridden" in valve["flags"]  # type: ignore[operator]
        view = json.loads(bms(data, "point", "priority", "ahu1/clg_valve", "--json").stdout)
        assert view["levels"][7] == 100.0 and view["device_levels"][7] == 100.0  # ours, and the device's own
        table = bms(data, "point", "priority", "ahu1/clg_valve").stdout
        assert "device" in table, table
    finally:
        assert bms(data, "point", "release", "ahu1/clg_valve", "--priority", "8").returncode == 0
    wait_until(lambda: points(data)["ahu1/clg_valve"]["value"] != 100.0, 15, "the valve back under its default")
