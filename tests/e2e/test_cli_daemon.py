"""The operator commands against a real `bms daemon` process, through click's
runner and as subprocesses: tables, --json, commands with priority and expiry,
and every failure as one red line with exit code 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bms.cli import cli
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import virtual_site

ENV = {"COLUMNS": "160", "NO_COLOR": "1"}


class Outcome:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> object:
        return json.loads(self.out)


Bms = Callable[..., Outcome]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A daemon running the virtual-room site, for the whole module."""
    with virtual_site(tmp_path_factory) as path:
        yield path


def _runner(*args: str) -> Outcome:
    result = CliRunner(env=ENV).invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def _process(*args: str) -> Outcome:
    proc = subprocess.run([sys.executable, "-m", "bms", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **ENV})
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(params=["runner", "process"])
def bms(request: pytest.FixtureRequest, data: Path) -> Bms:
    """`bms ARGS --data <the daemon's dir>`, through CliRunner or as a process."""
    run = _runner if request.param == "runner" else _process

    def call(*args: str) -> Outcome:
        return run(*args, "--data", str(data))

    return call


def read_value(bms: Bms, point_id: str) -> object:
    state = bms("point", "read", point_id, "--json").json()
    assert isinstance(state, dict)
    return state["value"]


def one_red_line(outcome: Outcome) -> str:
    assert outcome.code == 1, (outcome.out, outcome.err)
    assert "Traceback" not in outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_status_lists_components(bms: Bms) -> None:
    shown = bms("status")
    assert shown.code == 0, shown.err
    assert "component" in shown.out and "Healthy" in shown.out and "site:" in shown.out
    report = bms("status", "--json").json()
    assert isinstance(report, dict) and report["status"] in ("Healthy", "Degraded", "Unknown")
    assert report["components"] and {"component", "state", "restarts", "queue_depth"} <= set(report["components"][0])


def test_points_list_table_and_json(bms: Bms) -> None:
    shown = bms("points", "list")
    assert shown.code == 0, shown.err
    temp = next(line for line in shown.out.splitlines() if "room1/temp" in line)
    assert "Room Temp" in temp and "21.0 °C" in temp
    assert "room1/sp" in shown.out and "2 point(s)" in shown.out
    listed = bms("points", "list", "--json").json()
    assert isinstance(listed, list)
    assert {p["point_id"] for p in listed} == {"room1/temp", "room1/sp"}
    only = bms("points", "list", "--pattern", "room1/t*", "--json").json()
    assert [p["point_id"] for p in only] == ["room1/temp"]  # type: ignore[index]


def test_point_read(bms: Bms) -> None:
    shown = bms("point", "read", "room1/temp")
    assert shown.code == 0, shown.err
    assert "Room Temp" in shown.out and "21.0 °C" in shown.out
    state = bms("point", "read", "room1/temp", "--json").json()
    assert isinstance(state, dict) and state["point_id"] == "room1/temp" and state["value"] == 21.0


def test_write_with_priority_and_expiry_then_release(bms: Bms) -> None:
    before = time.time()
    wrote = bms("point", "write", "room1/sp", "23", "--priority", "9", "--for", "10m")
    assert wrote.code == 0, wrote.err
    assert wrote.out.startswith("room1/sp: wrote 23 at priority 9 until ")
    assert "effective 23" in wrote.out and "from priority 9" in wrote.out
    wait_until(lambda: read_value(bms, "room1/sp") == 23, timeout=10, what="room1/sp to read 23")
    assert bms("point", "read", "room1/sp", "--json").json()["active_priority"] == 9  # type: ignore[index]

    view = bms("point", "priority", "room1/sp", "--json").json()
    assert isinstance(view, dict)
    assert view["levels"][8] == 23 and view["active_priority"] == 9 and view["effective"] == 23
    assert before + 590 <= view["expires"][8] <= time.time() + 610
    table = bms("point", "priority", "room1/sp")
    row9 = next(line for line in table.out.splitlines() if line.startswith("│") and line.split()[1] == "9")
    assert "23" in row9 and "(in 9m" in row9 and "◀ active" in row9
    assert "effective 23 from priority 9 (relinquish default 21.0)" in table.out

    released = bms("point", "release", "room1/sp", "--priority", "9")
    assert released.code == 0, released.err
    assert released.out.strip() == "room1/sp: released priority 9; effective 21.0 from relinquish default"
    wait_until(lambda: read_value(bms, "room1/sp") == 21.0, timeout=10, what="room1/sp back to 21.0")


def test_write_refused_by_a_guard_is_one_line(bms: Bms) -> None:
    line = one_red_line(bms("point", "write", "room1/sp", "40"))
    assert "room1/sp" in line and "refused" in line


def test_history_show_json_and_table(bms: Bms) -> None:
    series = bms("history", "show", "room1/temp", "--since", "1h", "--json").json()
    assert isinstance(series, dict) and series["point_id"] == "room1/temp"
    assert series["end"] - series["start"] == pytest.approx(3600, abs=5)
    assert series["rollup"] in ("raw", "15m", "1h", "1d")
    shown = bms("history", "show", "room1/temp", "--rollup", "raw")
    assert shown.code == 0, shown.err
    assert "room1/temp:" in shown.out and "(raw)" in shown.out
    csv = bms("history", "show", "room1/temp", "--csv")
    assert csv.code == 0, csv.err
    assert "," in csv.out.splitlines()[0]  # the header row


def test_unknown_point_is_named_with_a_suggestion(bms: Bms) -> None:
    line = one_red_line(bms("point", "read", "room1/spp"))
    assert "room1/spp" in line and "(did you mean 'room1/sp'?)" in line
    assert "(did you mean 'room1/temp'?)" in one_red_line(bms("history", "show", "room1/tmp"))


@pytest.mark.parametrize("args", [["status"], ["points", "list"], ["shell"]])
def test_daemon_not_running_says_how_to_start_it(tmp_path: Path, args: list[str]) -> None:
    for run in (_runner, _process):
        line = one_red_line(run(*args, "--data", str(tmp_path)))
        assert f"no bms daemon is running on {tmp_path}" in line and "bms daemon" in line
