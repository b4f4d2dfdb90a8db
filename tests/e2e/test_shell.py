"""`bms shell` driven at its prompt in a pty, on a real `bms daemon` process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from bms.audit import AuditLog
from tests.conftest import ROOT
from tests.e2e.daemon import virtual_site

PROMPT = "bms>"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\r\x07]")
GAP = r"(?:\x1b\[[0-9;]*m|\s)+"  # spaces and styles between a label and its value
ENV = {"TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "NO_COLOR": "1"}


def plain(text: str) -> str:
    """What a person sees of the output, without the terminal's control sequences."""
    return ANSI.sub("", text)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A daemon running the virtual-room site, for the whole module."""
    with virtual_site(tmp_path_factory) as path:
        yield path


@pytest.fixture
def shell(data: Path) -> Iterator[pexpect.spawn]:
    child = pexpect.spawn(sys.executable, ["-m", "bms", "shell", "--data", str(data)], cwd=str(ROOT),
                          env={**os.environ, **ENV}, encoding="utf-8", timeout=20, dimensions=(40, 150))
    try:
        child.expect("Type 'help' for the commands")
        child.expect(PROMPT)
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()


def run(child: pexpect.spawn, line: str, shows: str) -> str:
    """Type ``line``, wait for ``shows`` (a regex absent from the line itself) and the next prompt."""
    child.sendline(line)
    child.expect(shows)
    seen = plain(child.before + child.after)
    child.expect(PROMPT)
    return seen + plain(child.before)


def test_completion_commands_and_watch_at_the_prompt(shell: pexpect.spawn, data: Path) -> None:
    # a command word completes with Tab ("sta" -> "status") and runs
    shell.send("sta\t")
    shell.expect("tus")  # drawn only once completed
    shell.send("\r")
    shell.expect("site: ")
    shell.expect(PROMPT)

    # a point id completes with Tab ("room1/t" -> "room1/temp")
    shell.send("point read room1/t\t")
    shell.expect("emp")
    shell.send("\r")
    shell.expect("updated")  # a row of the point's table, after id, name, value and status
    assert re.search(r"point\s+room1/temp\s+name\s+Room Temp\s", plain(shell.before))
    shell.expect(PROMPT)

    # a bad command: one line, then a new prompt
    shell.sendline("frobnicate now")
    shell.expect("No such command 'frobnicate'")
    assert plain(shell.before).endswith("error: ")
    shell.expect(PROMPT)
    assert plain(shell.before).strip() == ". Type 'help' for the commands.\nadmin@"  # the prompt names the user

    # an unknown point: one line naming it, then a new prompt
    out = run(shell, "point read room1/spp", r"did you mean 'room1/sp'\?\)")
    assert "room1/spp" in out and "Traceback" not in out

    # write, then read back
    out = run(shell, "point write room1/sp 23", r"effective 23(\.0)? from priority 8")
    deadline = time.monotonic() + 10  # the device may take a moment to report the new value
    while True:
        out = run(shell, "point read room1/sp", rf"active priority{GAP}8")
        if re.search(r"value\s+23(\.0)? °C", out) or time.monotonic() > deadline:
            break
    assert re.search(r"value\s+23(\.0)? °C", out), out

    # a line ending with a backslash continues on the next
    shell.sendline("point release \\")
    shell.sendline("room1/sp")
    shell.expect("released priority 8")
    shell.expect(PROMPT)

    # watch: a live table, updated by a write from elsewhere, stopped by Ctrl-C
    shell.sendline("watch room1/*")
    shell.expect("Ctrl-C to stop")
    subprocess.run([sys.executable, "-m", "bms", "point", "write", "room1/sp", "24", "--data", str(data)],
                   cwd=ROOT, check=True, capture_output=True, timeout=60)
    shell.expect(r"24(\.0)? °C")
    shell.sendintr()
    shell.expect("stopped watching 2 point")
    shell.expect(PROMPT)
    run(shell, "point release room1/sp", "released priority 8")

    # debug logging on the daemon, from the shell
    run(shell, "debug on", "daemon log level is now debug")
    run(shell, "debug off", "daemon log level is now info")

    shell.sendline("exit")
    shell.expect(pexpect.EOF)
    shell.close()
    assert shell.exitstatus == 0
    assert "point write room1/sp 23" in (data / "shell_history").read_text()


def test_usage_errors_trend_help_and_ctrl_d(shell: pexpect.spawn) -> None:
    for line, says in [
        ("point write room1/sp", "Missing argument 'VALUE'"),
        ("point write room1/sp 23 --priority 0", "Invalid value for '--priority'"),
        ("history show room1/temp --since sometime", "invalid time 'sometime'"),
        ("point read 'room1/sp", "cannot read the line"),
    ]:
        out = run(shell, line, re.escape(says))
        assert "Traceback" not in out
    run(shell, "trend room1/temp --since 1h", r"room1/temp \((raw|15m|1h|1d)\)|no numeric values")
    out = run(shell, "help", r"point write ID VALUE")
    assert "watch [PATTERN]" in out and "trend ID" in out
    shell.sendcontrol("d")
    shell.expect(pexpect.EOF)
    shell.close()
    assert shell.exitstatus == 0


def test_the_prompt_names_the_user_and_writes_are_the_shells(data: Path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "bms", "shell", "--data", str(data)], cwd=str(ROOT),
                          env={**os.environ, **ENV}, encoding="utf-8", timeout=20, dimensions=(40, 150))
    try:
        child.expect(r"bms shell on .* as admin \(admin\)")
        child.expect("admin@" + PROMPT)
        run(child, "point write room1/sp 22.5 --priority 15", "wrote 22.5")
        run(child, "point release room1/sp --priority 15", "released|relinquished")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()
    rows = AuditLog(data / "audit.db", readonly=True).rows(target="room1/sp")
    assert [(r.entry.user, r.entry.origin.split()[0], r.entry.action) for r in rows[-2:]] == [
        ("admin", "shell", "writePoint"), ("admin", "shell", "relinquishPoint")]
