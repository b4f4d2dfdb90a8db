"""A line at the prompt: run through the CLI's commands; every failure is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms.messages import PointValue, StatusChanged, ValueChanged
from bms.shell import ShellSession, run_line, script, split_line
from bms.shell._watch import apply
from tests.cli.fake_api import FakeApi, state


@pytest.fixture
def session(tmp_path: Path) -> ShellSession:
    api = FakeApi(state("room1/temp", unit="°C"), state("room1/sp", 23.0, unit="°C", writable=True))
    return ShellSession(api, tmp_path)  # type: ignore[arg-type]


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("point write room1/sp 23", ["point", "write", "room1/sp", "23"]),
        ("point write 'a b' \"c d\"", ["point", "write", "a b", "c d"]),
        ("point write \\\n room1/sp \\\n 23", ["point", "write", "room1/sp", "23"]),
        ("   ", []),
    ],
)
def test_split_line(text: str, words: list[str]) -> None:
    assert split_line(text) == words


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("stauts", "No such command 'stauts'. Did you mean 'status'?"),
        ("point read", "Missing argument 'ID'. (see 'help point read')"),
        ("point write room1/sp 23 --priority 17", "'--priority' / '-p': 17 is not in the range 1<=x<=16"),
        ("point write room1/sp 23 --for soon", "invalid duration 'soon'"),
        ("history show room1/temp --since banana", "invalid time 'banana'"),
        ("point read 'room1/sp", "cannot read the line: No closing quotation"),
        ("debug maybe", "'maybe' is not one of 'on', 'off'"),
        ("watch", "name a PATTERN"),
    ],
)
def test_a_bad_line_is_one_line(session: ShellSession, capsys: pytest.CaptureFixture[str], text: str, says: str) -> None:
    run_line(text, session)
    out, err = capsys.readouterr()
    assert out == ""
    line = one_line(err)
    assert line.startswith("error: ") and says in line
    assert not session.done


def test_an_unknown_point_names_it_and_suggests(session: ShellSession, capsys: pytest.CaptureFixture[str]) -> None:
    run_line("point read room1/spp", session)
    line = one_line(capsys.readouterr().err)
    assert line == "error: unknown point 'room1/spp' (did you mean 'room1/sp'?)"
    run_line("point read sp", session)
    assert "(did you mean 'room1/sp'?)" in one_line(capsys.readouterr().err)


def test_a_refusal_about_a_known_point_gets_no_suggestion(session: ShellSession, capsys: pytest.CaptureFixture[str]) -> None:
    run_line("point priority room1/temp", session)
    assert one_line(capsys.readouterr().err) == "error: point 'room1/temp' is not commandable: it has no priority array"


def test_commands_run_on_the_session_client(session: ShellSession, capsys: pytest.CaptureFixture[str]) -> None:
    run_line("point read room1/sp", session)
    out = capsys.readouterr().out
    assert "room1/sp" in out and "23.0 °C" in out
    run_line("debug on", session)
    assert session.client.log_level == "debug"  # type: ignore[attr-defined]
    assert "daemon log level is now debug" in capsys.readouterr().out


def test_help_lists_commands_and_explains_one(session: ShellSession, capsys: pytest.CaptureFixture[str]) -> None:
    run_line("help", session)
    out = capsys.readouterr().out
    for usage in ("point write ID VALUE", "points list", "history show ID", "watch [PATTERN]", "trend ID", "debug {on|off}"):
        assert usage in out
    assert "daemon" not in out.split()
    run_line("help point write", session)
    out = capsys.readouterr().out
    assert "--priority" in out and "--for DURATION" in out
    run_line("help nosuch", session)
    assert "no command 'nosuch'" in one_line(capsys.readouterr().err)


def test_a_group_without_subcommand_shows_its_help(session: ShellSession, capsys: pytest.CaptureFixture[str]) -> None:
    run_line("point", session)
    out = capsys.readouterr().out
    assert "read" in out and "write" in out and "priority" in out


def test_exit_and_quit_end_the_session(session: ShellSession) -> None:
    run_line("exit", session)
    assert session.done
    session.done = False
    run_line("quit", session)
    assert session.done


def test_apply_folds_values_and_status_into_the_watched_points() -> None:
    states = {"a/x": state("a/x", 1.0), "a/y": state("a/y", 2.0)}
    changed = apply(states, ValueChanged(values=(PointValue(point_id="a/x", value=5.0, ts=2.0),
                                                 PointValue(point_id="b/z", value=9.0, ts=2.0))))
    assert changed == ["a/x"] and states["a/x"].value == 5.0 and states["a/x"].ts == 2.0
    assert apply(states, StatusChanged(point_id="a/y", flags=("stale",), ts=3.0, reason="no reply")) == ["a/y"]
    assert states["a/y"].flags == ("stale",) and states["a/y"].reason == "no reply" and states["a/y"].value == 2.0
    assert apply(states, StatusChanged(point_id="q/q", flags=(), ts=3.0)) == []
    assert apply(states, StatusChanged(point_id="a/x", flags=(), ts=4.0, device_flags=("in-alarm",))) == ["a/x"]
    assert states["a/x"].device_flags == ("in-alarm",) and states["a/x"].flags == ()


def test_run_line_says_whether_the_command_succeeded(session: ShellSession) -> None:
    assert run_line("point read room1/sp", session) is True
    assert run_line("", session) is True
    assert run_line("help", session) is True
    assert run_line("point read nowhere/x", session) is False
    assert run_line("nosuch", session) is False


def test_a_script_runs_every_line_joins_continuations_and_reports_failure(
        session: ShellSession, capsys: pytest.CaptureFixture[str]) -> None:
    assert script(session, ["point read \\\n", "room1/sp\n", "debug on\n"]) is True
    out = capsys.readouterr().out
    assert "room1/sp" in out and "daemon log level is now debug" in out
    assert script(session, ["point read x/y\n", "debug off\n"]) is False
    assert session.client.log_level == "info"  # type: ignore[attr-defined]  (ran after the failure)
    assert script(session, ["exit\n", "debug on\n"]) is True
    assert session.client.log_level == "info"  # type: ignore[attr-defined]  (nothing after exit)
