"""kill -9 of a writing process loses nothing that ``append`` acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from bms.history import HistoryReader, HistoryWriter
from tests.bms.history.conftest import T0, pv

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("_writer_proc.py")
ACKNOWLEDGED = 6000


def test_sigkill_after_append_returned_loses_nothing(db: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-W", "error", str(SCRIPT), str(db), "300"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acknowledged = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # ends at EOF if the writer dies early
            acknowledged = int(line)
            if acknowledged >= ACKNOWLEDGED:
                break
        proc.send_signal(signal.SIGKILL)  # most likely in the middle of the next append
        proc.wait(timeout=10)
        assert acknowledged >= ACKNOWLEDGED, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL

    with HistoryReader(db) as reader:  # straight after the crash, before any writer reopens the file
        points = reader.points()
        recorded = sum(p.count for p in points)
        assert recorded >= acknowledged
        # whole transactions only: the rollups hold exactly the raw rows
        assert sum(b.count for p in points for b in reader.rollup(p.point_id, 0, 4e9, "1d").buckets) == recorded
        assert sum(len(reader.raw(p.point_id, 0, 4e9)) for p in points) == recorded
    with HistoryWriter(db) as writer:  # and the file takes more
        writer.append([pv("dev0/p", 1.0, T0 + 10**6)])
