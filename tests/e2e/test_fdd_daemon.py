"""FDD in `bms daemon`, driven as a user does: the demo site on ports of its own, the library's windows
shortened (1 s samples, a 5 s window); a fault injected into the simulated AHU (`bms sim fault ahu1
mat-drift`) is raised by G36 FC3 through the API, routed to the alarm engine, acknowledged (audited) and
cleared when the fault is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bms.daemon import read_daemon_info
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess
from tests.e2e.test_logic_daemon import demo_copy

ENV = {"COLUMNS": "200", "NO_COLOR": "1"}
FAST = """
[g36]
sample = 1.0
smoothing = 1.0
mode_delay = 0.0
window = 5.0
"""


def bms(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bms", *args, "--data", str(data)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **ENV})


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("data")
    conf = tmp_path_factory.mktemp("conf")
    rules = conf / "fdd-rules"
    rules.mkdir()
    (rules / "g36.toml").write_text(FAST, encoding="utf-8")
    settings = conf / "bms.toml"
    settings.write_text(f'[daemon]\nscenario = "{demo_copy(conf)}"\n\n[fdd]\nrules = "{rules}"\n')
    proc = DaemonProcess(data, settings)
    try:
        proc.wait_for_event("running")
        wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
        yield data
        assert proc.terminate() == 0
    finally:
        proc.close()


def faults(data: Path, *args: str) -> list[dict[str, Any]]:
    listed = bms(data, "fdd", "faults", "--json", *args)
    assert listed.returncode == 0, listed.stderr
    found: list[dict[str, Any]] = json.loads(listed.stdout)
    return found


def test_rules_and_bindings_of_the_demo(daemon: Path) -> None:
    rules = bms(daemon, "fdd", "rules", "--json")
    assert rules.returncode == 0, rules.stderr
    assert [r["id"] for r in json.loads(rules.stdout)][:16] == [f"FC{i}" for i in range(1, 17)]
    bound = json.loads(bms(daemon, "fdd", "bindings", "--json").stdout)
    [ahu] = bound
    assert ahu["equip"] == "ahu1" and ahu["missing"] == [] and "FC1" in ahu["runnable"]
    assert ahu["roles"]["heating"] == "ahu1/htg_valve" and ahu["roles"]["dsp"] == "ahu1/dsp"
    table = bms(daemon, "fdd", "bindings")
    assert "ahu1" in table.stdout and "not applicable: no energy recovery" in table.stdout
    assert json.loads(bms(daemon, "fdd", "bindings", "--under", "floor1", "--json").stdout) == []


def test_an_injected_fault_is_raised_acknowledged_and_cleared(daemon: Path) -> None:
    injected = bms(daemon, "sim", "fault", "ahu1", "mat-drift")
    assert injected.returncode == 0, injected.stderr
    assert "ahu1: mat-drift" in injected.stdout

    def fc3() -> dict[str, Any] | None:
        return next((f for f in faults(daemon, "--active") if f["rule"] == "FC3"), None)

    wait_until(lambda: fc3() is not None, timeout=60, what="FC3 raised by the drifting mixed-air sensor")
    fault = fc3()
    assert fault is not None and fault["equip"] == "ahu1" and "MAT sensor error" in fault["causes"]
    assert "mat" in fault["explanation"] and faults(daemon, "--active", "--under", "plant")
    alarms = json.loads(bms(daemon, "alarms", "list", "--json").stdout)
    assert any(a["alarm_id"] == "fdd:ahu1:FC3" for a in alarms), alarms
    acked = bms(daemon, "fdd", "ack", str(fault["id"]))
    assert acked.returncode == 0, acked.stderr
    assert f"fault {fault['id']} (ahu1 FC3) acknowledged by" in acked.stdout
    rows = json.loads(bms(daemon, "audit", "list", "--action", "ackFddFault", "--json").stdout)
    assert rows and rows[-1]["entry"]["outcome"] == "done" and "FC3" in rows[-1]["entry"]["target"]
    assert bms(daemon, "sim", "fault", "ahu1", "clear").returncode == 0
    wait_until(lambda: fc3() is None, timeout=60, what="FC3 cleared once the sensor reads true again")
    [done] = [f for f in faults(daemon) if f["id"] == fault["id"]]
    assert done["cleared_at"] is not None and done["acked_by"]
    status = json.loads(bms(daemon, "status", "--json").stdout)
    fdd = next(c for c in status["components"] if c["component"] == "fdd")
    assert fdd["state"] == "Healthy", fdd


def test_a_leaking_cooling_valve_in_free_cooling(daemon: Path) -> None:
    for point, value in (("ahu1/clg_valve", "0"), ("ahu1/oa_damper", "50")):  # OS2: economiser, no coil
        written = bms(daemon, "point", "write", point, value, "--priority", "8")
        assert written.returncode == 0, written.stderr
    assert bms(daemon, "sim", "fault", "ahu1", "cooling-valve-leak").returncode == 0

    def fc14() -> dict[str, Any] | None:
        return next((f for f in faults(daemon, "--active") if f["rule"] == "FC14"), None)

    try:
        wait_until(lambda: fc14() is not None, timeout=60, what="FC14: a temperature drop across the inactive coil")
        fault = fc14()
        assert fault is not None and "OS2" in fault["state"]
        assert "cooling coil valve leaking or stuck open" in fault["causes"]
    finally:
        bms(daemon, "sim", "fault", "ahu1", "clear")
        for point in ("ahu1/clg_valve", "ahu1/oa_damper"):
            bms(daemon, "point", "release", point, "--priority", "8")


def test_mistakes_are_one_line(daemon: Path) -> None:
    unknown = bms(daemon, "fdd", "ack", "999")
    assert unknown.returncode == 1 and "no fault 999" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    vav = bms(daemon, "sim", "fault", "vav101", "damper-stuck")
    assert vav.returncode == 1 and "not an air handler" in vav.stderr
    nowhere = bms(daemon, "sim", "fault", "ahu9", "damper-stuck")
    assert nowhere.returncode == 1 and "ahu9" in nowhere.stderr


def test_the_same_at_the_shell_prompt(daemon: Path) -> None:
    import pexpect

    from tests.e2e.test_shell import ENV as SHELL_ENV
    from tests.e2e.test_shell import PROMPT, run

    child = pexpect.spawn(sys.executable, ["-m", "bms", "shell", "--data", str(daemon)], cwd=str(ROOT),
                          env={**os.environ, **SHELL_ENV}, encoding="utf-8", timeout=30, dimensions=(60, 200))
    try:
        child.expect("Type 'help' for the commands")
        child.expect(PROMPT)
        assert "ahu1/htg_valve" in run(child, "fdd bindings", r"air handler\(s\)")
        assert "FC16" in run(child, "fdd rules", r"\d+ rule\(s\)")
        assert "fault(s)" in run(child, "fdd faults --active --under plant", r"\d+ fault\(s\)")
        child.sendline("watch faults")
        child.expect(r"\d+ fault\(s\)")
        child.sendcontrol("c")
        child.expect("stopped watching faults")
        child.expect(PROMPT)
        assert "FC3" in run(child, "fdd faults", r"\d+ fault\(s\)")
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()
