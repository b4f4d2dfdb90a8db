"""What an operator can trust of the command line: usage errors are one line and exit 1 (JSON under
--json), negative values, life-safety confirmation, empty releases, status exit codes, no-match answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bms.api import ComponentHealth, HealthReport
from bms.cli import _points as points_cli
from bms.cli import _status as status_cli
from bms.cli._app import cli
from bms.messages import PointState, WriteAccepted
from tests.cli.fake_api import state


class Client:
    """Records the commands it is given; a release of an empty level says so."""

    def __init__(self, health: str = "Healthy") -> None:
        self.writes: list[tuple[str, Any, int]] = []
        self.held: set[int] = set()
        self.site = health

    def write(self, point_id: str, value: Any, priority: int = 8, duration: float | None = None,
              wait: float = 0.0) -> WriteAccepted:
        self.writes.append((point_id, value, priority))
        self.held.add(priority)
        return WriteAccepted(point_id=point_id, effective=value, active_priority=priority, priority=priority)

    def relinquish(self, point_id: str, priority: int = 8, wait: float = 0.0) -> WriteAccepted:
        empty = priority not in self.held
        self.held.discard(priority)
        return WriteAccepted(point_id=point_id, effective=21.0, active_priority=None, priority=priority,
                             level_was_empty=empty)

    def points(self, under: str | None = None, tags: list[str] | None = None,
               pattern: str | None = None) -> list[PointState]:
        return [] if pattern or tags else [state("ahu1/sat", 13.0)]

    def health(self) -> HealthReport:
        return HealthReport(status=self.site, components=(
            ComponentHealth(component="points", state=self.site, reason="", last_error="", restarts=0, queue_depth=0),))

    def close(self) -> None:
        pass


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Client:
    made = Client()
    monkeypatch.setattr(points_cli, "connect", lambda data: made)
    monkeypatch.setattr(status_cli, "connect", lambda data: made)
    return made


def bms(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, prog_name="bms", catch_exceptions=False)


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, (result.exit_code, result.stderr, result.stdout)
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("args", "culprit"), [
    (["point", "write", "ahu1/sat_sp", "20", "--priority", "0"], "'--priority'"),
    (["point", "write", "ahu1/sat_sp", "20", "--for", "banana"], "'--for'"),
    (["point", "write", "ahu1/sat_sp", "20", "--for", "99999d"], "at most 366d"),
    (["history", "show", "ahu1/sat", "--since", "garbage"], "'--since'"),
    (["point", "write", "ahu1/sat_sp"], "'VALUE'"),
    (["point", "wrte"], "'wrte'"),
])
def test_usage_errors_are_one_red_line_and_exit_1(args: list[str], culprit: str) -> None:
    line = one_line(bms(*args))
    assert culprit in line and "Usage:" not in line


def test_a_file_given_as_data_is_one_line(tmp_path: Path) -> None:
    afile = tmp_path / "notadir"
    afile.write_text("")
    line = one_line(bms("points", "list", "--data", str(afile)))
    assert "'--data'" in line and "is a file" in line


def test_with_json_an_error_is_json_on_stderr(client: Client) -> None:
    result = bms("point", "write", "ahu1/sat_sp", "20", "--priority", "0", "--json")
    assert result.exit_code == 1 and result.stdout == ""
    assert "'--priority'" in json.loads(result.stderr)["error"]
    empty = bms("point", "release", "ahu1/sat_sp", "--priority", "9", "--json")
    assert empty.exit_code == 1 and "nothing to release" in json.loads(empty.stderr)["error"]


def test_help_still_works() -> None:
    result = bms("point", "write", "--help")
    assert result.exit_code == 0 and "--yes" in result.stdout
    assert bms("--help").exit_code == 0


@pytest.mark.parametrize("args", [
    ["ahu1/sat_sp", "-20", "--priority", "16"], ["ahu1/sat_sp", "-20", "-p", "16"],
    ["--priority", "16", "ahu1/sat_sp", "-20"], ["ahu1/sat_sp", "-20", "--priority=16"],
])
def test_negative_values_are_values(client: Client, args: list[str]) -> None:
    result = bms("point", "write", *args)
    assert result.exit_code == 0, result.stderr
    assert client.writes == [("ahu1/sat_sp", -20, 16)]


def test_a_negative_priority_is_still_refused(client: Client) -> None:
    assert "'--priority'" in one_line(bms("point", "write", "ahu1/sat_sp", "5", "--priority", "-3"))
    assert client.writes == []


def test_life_safety_needs_yes_in_a_script(client: Client) -> None:
    line = one_line(bms("point", "write", "ahu1/fan", "true", "--priority", "1"))
    assert "manual life safety" in line and "--yes" in line and client.writes == []
    assert bms("point", "write", "ahu1/fan", "true", "-p", "2", "--yes").exit_code == 0
    assert client.writes == [("ahu1/fan", True, 2)]


def test_life_safety_asks_on_a_terminal(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(points_cli, "on_terminal", lambda: True)
    refused = bms("point", "write", "ahu1/fan", "true", "-p", "1", stdin="n\n")
    assert refused.exit_code == 1 and client.writes == []
    taken = bms("point", "write", "ahu1/fan", "true", "-p", "1", stdin="y\n")
    assert taken.exit_code == 0 and "life safety" in taken.stdout and client.writes == [("ahu1/fan", True, 1)]


def test_releasing_an_empty_level_says_so_and_exits_1(client: Client) -> None:
    assert bms("point", "write", "ahu1/sat_sp", "18").exit_code == 0
    assert bms("point", "release", "ahu1/sat_sp").exit_code == 0
    line = one_line(bms("point", "release", "ahu1/sat_sp"))
    assert "nothing to release at priority 8" in line


@pytest.mark.parametrize(("site", "code"), [("Healthy", 0), ("Degraded", 2), ("Down", 1), ("Unknown", 1)])
def test_status_exit_code_follows_the_site(client: Client, site: str, code: int) -> None:
    client.site = site
    assert bms("status").exit_code == code
    assert bms("status", "--json").exit_code == code


def test_a_pattern_with_no_match_is_the_answer_watch_gives(client: Client) -> None:
    assert one_line(bms("points", "list", "--pattern", "zz*")) == "error: no points match 'zz*'"
    assert bms("points", "list").exit_code == 0


def test_as_a_process_a_usage_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bms", "point", "write", "ahu1/sat_sp", "20", "--priority", "17"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: Invalid value for '--priority' / '-p': 17 is not in the range 1<=x<=16. (see 'bms point write --help')"]


@pytest.mark.parametrize("args", [("points", "list"), ("point", "write", "ahu1/sat_sp", "20"), ("alarms", "list")])
def test_with_json_a_refusal_inside_a_command_is_json_too(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = bms(*args, "--data", str(tmp_path), "--json")  # no daemon runs there
    assert result.exit_code == 1 and result.stdout == ""
    assert "no bms daemon is running" in json.loads(result.stderr)["error"]
