"""Store-and-forward in `bms daemon`: a target down, the daemon killed (SIGKILL), restarted, the target back.

Every value the daemon recorded reaches VictoriaMetrics, once; `bms export
status` and `bms status` say what the target is doing; `bms export backfill`
sends the recorded history through the daemon.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bms.client import ApiClient
from bms.daemon import read_daemon_info
from bms.errors import BmsError
from bms.export import BackfillProgress, BackfillRequest
from bms.history import HistoryReader
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess, virtual_room
from tests.export_servers import Victoria, need_victoria
from tests.notify_servers import free_port

POINT = "room1/sp"


def bms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bms", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def started(data: Path, settings: Path) -> DaemonProcess:
    daemon = DaemonProcess(data, settings)
    daemon.wait_for_event("running", timeout=60)
    wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
    return daemon


def export_status(data: Path) -> dict[str, object]:
    done = bms("export", "status", "--data", str(data), "--json")
    assert done.returncode == 0, done.stderr
    (target,) = json.loads(done.stdout)
    return dict(target)


def recorded(data: Path) -> list[float]:
    """The times of the point's recorded values, in ms as VictoriaMetrics keeps them."""
    with HistoryReader(data / "history.db") as reader:
        return [int(s.ts * 1000) for s in reader.raw(POINT, 0.0, 4e9)]  # VictoriaMetrics truncates to ms


def ms(found: list[tuple[float, float]]) -> list[int]:
    return [round(ts * 1000) for ts, _v in found]


def test_a_target_down_across_a_kill_loses_nothing_and_gets_every_value_once(tmp_path: Path) -> None:
    need_victoria()
    port = free_port()
    data = tmp_path / "data"
    settings = tmp_path / "bms.toml"
    scenario = virtual_room(tmp_path)
    settings.write_text(f"""
[daemon]
scenario = "{scenario}"

[influx]
tick = 0.2
retry = {{ initial = 0.2, factor = 2.0, max_delay = 0.5 }}

[[influx.targets]]
name = "vm"
url = "http://127.0.0.1:{port}"
batch = 10
""")
    daemon = started(data, settings)
    vm = Victoria(tmp_path / "vm", port=port)
    try:
        with ApiClient.from_data_dir(data) as api:
            for i in range(25):
                api.write(POINT, 16.0 + i / 4)
        wait_until(lambda: export_status(data)["state"] == "error", timeout=20, what="the target in error")
        before = export_status(data)
        assert before["reason"] == "connection refused" and int(before["buffered"]) >= 25  # type: ignore[call-overload]
        status = bms("status", "--data", str(data))
        assert "export:vm" in status.stdout and "connection refused" in status.stdout, status.stdout
        daemon.proc.kill()  # SIGKILL while the target is down, rows buffered
        daemon.proc.wait(10)
        daemon.close()

        vm.start()
        daemon = started(data, settings)
        wait_until(lambda: export_status(data)["buffered"] == 0, timeout=30, what="the outbox to drain")
        sent = recorded(data)
        assert len(sent) >= 25
        found = vm.wait_samples(len(sent), match=f'{{point="{POINT}"}}')[POINT]
        assert ms(found) == sent  # every recorded value, in order, once
        assert export_status(data)["state"] in ("live", "idle")

        back = bms("export", "backfill", "vm", "--since", "1d", "--data", str(data), "--json")
        assert back.returncode == 0, back.stderr
        progress = json.loads(back.stdout)
        assert progress["done"] and progress["sent"] == progress["total"] >= len(sent)
        assert ms(vm.samples(f'{{point="{POINT}"}}')[POINT]) == recorded(data)  # nothing doubled

        with ApiClient.from_data_dir(data) as api, pytest.raises(BmsError, match="since: "):
            api.post("/api/export/vm/backfill", BackfillProgress, BackfillRequest(since="banana"))

        wrong = bms("export", "backfill", "vn", "--data", str(data))
        assert wrong.returncode == 1 and "error: no export target named 'vn'; targets: vm" in wrong.stderr
        assert "Traceback" not in wrong.stderr
        assert daemon.terminate() == 0
    finally:
        daemon.close()
        vm.stop()


@pytest.mark.parametrize("args", [["export", "status"], ["webhooks", "log"]])
def test_read_commands_work_without_a_daemon(tmp_path: Path, args: list[str]) -> None:
    done = bms(*args, "--data", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)
