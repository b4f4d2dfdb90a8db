"""Schedules through a real `bms daemon`: the scenario's schedule drives a point at start, operators create,
edit, override and assign schedules with the CLI (in process and as a subprocess), and every write is audited.

The site is the virtual room of tests/data with a 24x7 schedule on its
setpoint (occupied -> 23, unoccupied -> 17): its value is the same at any
hour the test runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bms.cli import cli
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import running, virtual_room


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("schedules")
    scenario = virtual_room(path, timezone="Europe/London", extra="""
[[schedules]]
name = "always"
template = "24x7"

[[schedules.assign]]
points = ["room1/sp"]
values = { occupied = 23.0, unoccupied = 17.0 }
""")
    with running(path / "data", scenario):
        yield path / "data"


def bms(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--data", str(data)])


def setpoint(data: Path) -> object:
    return json.loads(bms(data, "point", "priority", "room1/sp", "--json").output)["effective"]


def test_the_scenarios_schedule_drives_its_point_from_the_start_and_yields_to_an_operator(data: Path) -> None:
    wait_until(lambda: setpoint(data) == 23.0, what="the schedule's value written at start")
    [listed] = json.loads(bms(data, "schedules", "list", "--json").output)
    assert (listed["name"], listed["value"], listed["points"], listed["timezone"]) == (
        "always", "occupied", 1, "Europe/London")
    assert bms(data, "point", "write", "room1/sp", "25", "--priority", "8").exit_code == 0
    assert setpoint(data) == 25.0
    override = bms(data, "schedule", "override", "always", "unoccupied", "--until", "2h")
    assert override.exit_code == 0 and "schedule always: unoccupied until" in override.output, override.output
    levels = json.loads(bms(data, "point", "priority", "room1/sp", "--json").output)
    assert (levels["levels"][15], levels["users"][15], levels["effective"]) == (17.0, "schedule:always", 25.0)
    assert bms(data, "point", "release", "room1/sp", "--priority", "8").exit_code == 0
    assert setpoint(data) == 17.0  # the schedule takes over again
    assert bms(data, "schedule", "override", "always", "--cancel").exit_code == 0
    assert setpoint(data) == 23.0
    rows = json.loads(bms(data, "audit", "list", "--action", "scheduleWrite", "--json").output)
    assert [(r["entry"]["user"], r["entry"]["target"], json.loads(r["entry"]["after"])["value"]) for r in rows] == [
        ("schedule:always", "room1/sp", 23.0), ("schedule:always", "room1/sp", 17.0),
        ("schedule:always", "room1/sp", 23.0)]
    status = json.loads(bms(data, "status", "--json").output)
    assert {c["component"]: c["state"] for c in status["components"]}["schedules"] == "Healthy"


def test_an_integrator_builds_a_schedule_from_the_command_line(data: Path) -> None:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bms", *args, "--data", str(data)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, env=env)

    made = run("schedule", "create", "lobby", "--template", "retail")
    assert made.returncode == 0 and "schedule lobby created from the retail template" in made.stdout, made.stderr
    assert run("schedule", "set", "lobby", "sat-sun", "10:00=occupied", "16:00=unoccupied").returncode == 0
    assert run("schedule", "except", "lobby", "2026-12-25", "unoccupied", "--name", "Christmas").returncode == 0
    shown = run("schedule", "show", "lobby", "--week", "2026-12-21")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "★ Christmas" in next(line for line in lines if "Fri 2026-12-25" in line)
    assert "10:00 occupied" in next(line for line in lines if "Sun 2026-12-27" in line)
    assert "08:30 occupied" in next(line for line in lines if "Mon 2026-12-21" in line)
    wrong = run("schedule", "assign", "lobby", "room1/temp")
    assert wrong.returncode == 1 and wrong.stderr.strip() == "error: point 'room1/temp' is not writable"
    assert run("schedule", "optimal-start", "lobby", "on").stdout.startswith("schedule lobby: optimal start on")
    assert json.loads(run("schedule", "show", "lobby", "--json").stdout)["schedule"]["optimal_start"] is True
    assert run("schedule", "create", "lights").returncode == 0
    assert run("schedule", "set", "lights", "mon-fri", "07:00=true", "19:00=false").returncode == 0
    refused = run("schedule", "optimal-start", "lights", "on")
    assert refused.returncode == 1 and refused.stderr.strip() == (
        "error: schedule lights has no occupied value: optimal start starts the conditioning of an occupancy "
        "schedule's zones"), refused.stderr
    assert run("schedule", "delete", "lights", "--yes").returncode == 0
    unknown = run("schedule", "show", "lobbby")
    assert unknown.returncode == 1 and "no schedule named 'lobbby'" in unknown.stderr
    assert run("schedule", "delete", "lobby", "--yes").returncode == 0
    assert [s["name"] for s in json.loads(run("schedules", "list", "--json").stdout)] == ["always"]
