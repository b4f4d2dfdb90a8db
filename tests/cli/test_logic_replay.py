"""`bms logic replay`: a program over recorded history (a real history.db), nothing written anywhere."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bms.cli import cli
from bms.clock import ManualClock
from bms.history import HistoryWriter
from bms.messages import PointValue
from tests.actors.test_logic_engine import DOUBLE

T0 = 1_700_000_000.0


def recorded(data: Path) -> None:
    data.mkdir(exist_ok=True)
    with HistoryWriter(data / "history.db", clock=ManualClock(T0)) as writer:
        writer.append([PointValue("room/temp", 20.0, T0 - 100.0), PointValue("room/temp", 21.0, T0 + 25.0),
                       PointValue("room/temp", 21.0, T0 + 45.0), PointValue("room/temp", 19.5, T0 + 51.0)])


def test_replay_prints_what_the_program_would_have_written_and_when(tmp_path: Path) -> None:
    data = tmp_path / "data"
    recorded(data)
    program = tmp_path / "double.toml"
    program.write_text(DOUBLE, encoding="utf-8")
    before = (data / "history.db").stat().st_mtime_ns
    args = ["logic", "replay", str(program), "--since", str(T0), "--until", str(T0 + 60.0), "--data", str(data)]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["runs"] == 7  # T0, T0+10 .. T0+60
    assert [(w["at"] - T0, w["point"], w["value"], w["priority"]) for w in out["writes"]] == [
        (0.0, "room/out", 40.0, 12), (30.0, "room/out", 42.0, 12), (60.0, "room/out", 39.0, 12)]
    assert out["errors"] == []
    shown = CliRunner().invoke(cli, args, env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    assert "3 write(s)" in shown.output and "room/out" in shown.output
    assert (data / "history.db").stat().st_mtime_ns == before


def test_replay_mistakes_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    program = tmp_path / "double.toml"
    program.write_text(DOUBLE, encoding="utf-8")
    missing = CliRunner().invoke(cli, ["logic", "replay", str(program), "--data", str(data)])
    assert missing.exit_code == 1
    assert "no history recorded here" in missing.output and len(missing.output.strip().splitlines()) == 1
    unknown = CliRunner().invoke(cli, ["logic", "replay", "nope", "--data", str(data)])
    assert unknown.exit_code == 1 and "no logic program 'nope'" in unknown.output
