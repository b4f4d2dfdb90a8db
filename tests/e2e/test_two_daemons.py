"""One host, one owner of each port: a second daemon on the same ports is refused; the first keeps its devices.

Each daemon is a real `bms daemon` process on its own data directory; the
scenario simulates two BACnet devices on loopback addresses of this test
run (``tests.bms.bacnet.loopback``) and free ports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.client import ApiClient
from bms.daemon import read_daemon_info
from tests.bms.bacnet.loopback import free_port, host
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess

AHU, VAV = host(81), host(82)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(f"""
profile_dirs = ["{ROOT / "conf" / "profiles"}"]

[site]
id = "ports"
name = "Ports"

[networks.bacnet.main]
address = "127.0.0.1/8:{free_port()}"
device_port = {free_port()}
poll_interval = 0.5
timeout = 0.5
retries = 1

[simulate]
enabled = true

[[devices]]
id = "ahu1"
profile = "ahu"
protocol = "bacnet"
network = "main"
address = "{AHU}"
device_instance = 8101

[[devices]]
id = "vav1"
profile = "vav"
protocol = "bacnet"
network = "main"
address = "{VAV}"
device_instance = 8102
""")
    return path


@pytest.fixture
def first(tmp_path: Path, scenario: Path) -> Iterator[tuple[DaemonProcess, Path]]:
    data = tmp_path / "first"
    daemon = DaemonProcess(data, scenario)
    try:
        daemon.wait_for_event("running")
        wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
        yield daemon, data
        assert daemon.terminate() == 0
    finally:
        daemon.close()


def healthy(api: ApiClient) -> bool:
    return api.health().status == "Healthy"


def test_a_second_daemon_on_the_same_ports_exits_1_naming_the_address_and_the_first_keeps_its_devices(
    first: tuple[DaemonProcess, Path], scenario: Path, tmp_path: Path,
) -> None:
    daemon, data = first
    with ApiClient.from_data_dir(data) as api:
        wait_until(lambda: healthy(api), timeout=30, what="the first daemon Healthy")
        second = subprocess.run(
            [sys.executable, "-m", "bms", "daemon", "--data", str(tmp_path / "second"), "--config", str(scenario),
             "--api-port", "0"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert second.returncode == 1
        port = scenario.read_text().split("device_port = ")[1].split()[0]
        assert second.stderr.splitlines() == [
            f"error: {AHU}:{port}/udp is in use by bms daemon pid {daemon.proc.pid} (data {data.resolve()})"
        ]
        assert read_daemon_info(tmp_path / "second") is None  # it claimed nothing
        # the first one's devices keep answering it: a command is taken and read back by the device
        answer = api.write("vav1/damper", 37.0, priority=8, wait=10.0)
        assert answer.device is not None and answer.device.ok and answer.device.readback == 37.0, answer
        answer = api.write("ahu1/clg_valve", 12.0, priority=8, wait=10.0)
        assert answer.device is not None and answer.device.ok and answer.device.readback == 12.0, answer
        assert healthy(api), api.health()
        assert all("down" not in p.flags for p in api.points())
        url = api.base_url
    assert daemon.proc.poll() is None
    # `bms status --data DIR` says which daemon it found there, or that none runs there
    shown = bms("status", "--data", str(data))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == f"daemon: pid {daemon.proc.pid}, data {data.resolve()}, API {url}"
    assert json.loads(bms("status", "--json", "--data", str(data)).stdout)["daemon"] == {
        "pid": daemon.proc.pid, "data_dir": str(data.resolve()), "api_url": url}
    none = bms("status", "--data", str(tmp_path / "second"))
    assert none.returncode == 1
    assert none.stderr.splitlines() == [f"error: no bms daemon is running on {(tmp_path / 'second').resolve()}; "
                                        f"start it with `bms daemon --data {(tmp_path / 'second').resolve()}`"]


def bms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bms", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})
