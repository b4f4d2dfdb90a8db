"""`bms daemon` as a process: start, SIGTERM, exit 0, lock released; one per data dir."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.daemon import DaemonProcess

SITE = ROOT / "tests/data/site.toml"


def test_sigterm_stops_cleanly_and_releases_lock(tmp_path: Path) -> None:
    d = DaemonProcess(tmp_path, SITE)
    try:
        d.wait_for_event("running")
        assert (tmp_path / "bms.lock").read_text().strip() == str(d.proc.pid)
        t0 = time.monotonic()
        assert d.terminate() == 0
        assert time.monotonic() - t0 < 10
    finally:
        d.close()
    assert (tmp_path / "bms.lock").read_text() == ""  # released
    stopped = [r for r in d.lines if r.get("event") == "stopped"]
    assert stopped and stopped[0]["exit_code"] == 0
    assert not any(r.get("event") == "actors still running after shutdown" for r in d.lines)


def test_the_data_directory_it_creates_is_its_users_only(tmp_path: Path) -> None:
    data = tmp_path / "share" / "bms"
    d = DaemonProcess(data, SITE)
    try:
        d.wait_for_event("running")
        modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in data.iterdir()}
        assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
        for name in ("history.db", "overrides.db", "nodes.db", "discovery.db"):
            assert {modes[name], modes[f"{name}-wal"], modes[f"{name}-shm"]} == {0o600}, name
        assert modes["bms.lock"] == modes["api.token"] == 0o600
        assert d.terminate() == 0
    finally:
        d.close()


def test_second_daemon_on_same_data_dir_is_refused(tmp_path: Path) -> None:
    first = DaemonProcess(tmp_path, SITE)
    try:
        first.wait_for_event("running")
        second = subprocess.run(
            [sys.executable, "-m", "bms", "daemon", "--data", str(tmp_path), "--config", str(SITE), "--api-port", "0"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert second.returncode == 1
        assert f"another bms daemon is already running on {tmp_path} (pid {first.proc.pid})" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.proc.poll() is None  # the first one is untouched
        assert first.terminate() == 0
    finally:
        first.close()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "bms.lock").write_text(f"{dead.pid}\n")
    d = DaemonProcess(tmp_path, SITE)
    try:
        rec = d.wait_for_event("took over a stale lock")
        assert rec["stale_pid"] == dead.pid
        d.wait_for_event("running")
        assert d.terminate() == 0
    finally:
        d.close()


def test_bad_config_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nid = "x"\nnam = "y"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "bms", "daemon", "--data", str(tmp_path / "d"), "--config", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "site.nam: unknown key (did you mean 'name'?)" in proc.stderr


def test_a_corrupt_history_before_start_is_one_line_exit_1_and_logged_as_such(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "history.db").write_bytes(b"not a database, an operator's mistake" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "bms", "daemon", "--data", str(data), "--config", str(SITE), "--api-port", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"error: history could not start: StoreError: {data / 'history.db'}: not a usable history database" \
        in proc.stderr
    stopped = [json.loads(line) for line in proc.stderr.splitlines() if '"event": "stopped"' in line]
    assert stopped and stopped[-1]["exit_code"] == 1
