"""Discovery through a real `bms daemon`: the devices service answers during a scan, and its progress streams.

The daemon runs a scenario with one BACnet network (no configured device)
whose devices are simulated in this process on a free port of loopback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from actors.components.sim_bacnet import BacnetSimulatorThread
from bms.cli import cli
from bms.client import ApiClient
from bms.daemon import read_daemon_info
from bms.messages import DeviceRecord, DiscoveryProgress, DiscoveryScanComplete
from bms.sim.bacnet import BacnetSimulator, SimDevice
from tests.bms.bacnet.loopback import free_port, host, profile
from tests.conftest import wait_until
from tests.e2e.daemon import DaemonProcess

AHU_ID, VAV_ID = 6201, 6202


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    devices = [SimDevice(AHU_ID, host(62), profile("ahu")), SimDevice(VAV_ID, host(63), profile("vav"))]
    with BacnetSimulatorThread(BacnetSimulator(devices, free_port(), interval=None)) as sim:
        path = tmp_path_factory.mktemp("discovery")
        scenario = path / "site.toml"
        scenario.write_text(f"""
[site]
id = "lab"
name = "Lab"

[networks.bacnet.lan]
address = "127.0.0.1/8:{free_port()}"
device_port = {sim.simulator.device_port}
timeout = 0.5
retries = 0
""")
        daemon = DaemonProcess(path / "data", scenario)
        try:
            daemon.wait_for_event("running")
            wait_until(lambda: read_daemon_info(path / "data") is not None, timeout=10, what="daemon.json")
            yield path / "data"
            assert daemon.terminate() == 0
        finally:
            daemon.close()


def test_the_devices_service_answers_while_a_scan_runs(data: Path) -> None:
    events: list[Any] = []
    found: list[list[DeviceRecord]] = []
    with ApiClient.from_data_dir(data) as api, api.stream(scan="e2e-0") as stream:
        threading.Thread(target=lambda: events.extend(stream), daemon=True).start()
        scanning = threading.Thread(target=lambda: found.append(api.discover(
            "bacnet", 6200, 6299, timeout=3.0, network="lan", scan="e2e-0")))  # its Who-Is waits 3 s for I-Ams
        scanning.start()
        try:
            wait_until(lambda: events, what="the scan under way")
            listed = api.devices()  # was a 503 for the whole scan
            assert scanning.is_alive()  # answered before the scan ended
        finally:
            scanning.join(30)
    assert isinstance(listed, list)
    assert [r.device_id for r in found[0]] == [f"bacnet:{AHU_ID}", f"bacnet:{VAV_ID}"]


def test_a_client_follows_its_scans_progress_while_the_scan_runs(data: Path) -> None:
    steps: list[DiscoveryProgress] = []
    with ApiClient.from_data_dir(data) as api:
        found = api.discover("bacnet", 6200, 6299, timeout=0.5, network="lan", progress=steps.append)
    assert len({p.scan for p in steps}) == 1 and steps[0].task == "who-is"
    assert (max(p.devices for p in steps), max(p.objects for p in steps)) == (2, sum(r.objects for r in found))


def test_a_scans_progress_streams_to_its_client_until_it_ends(data: Path) -> None:
    events: list[Any] = []
    with ApiClient.from_data_dir(data) as api, api.stream(scan="e2e-1") as stream:
        reader = threading.Thread(target=lambda: events.extend(stream), daemon=True)
        reader.start()
        found = api.discover("bacnet", 6200, 6299, timeout=0.5, network="lan", scan="e2e-1")
        reader.join(10)  # the stream ends with the scan
        assert not reader.is_alive()
    progress = [e for e in events if isinstance(e, DiscoveryProgress)]
    assert {p.scan for p in progress} == {"e2e-1"}
    assert max(p.devices for p in progress) == 2
    assert max(p.objects for p in progress) == sum(r.objects for r in found)
    assert isinstance(events[-1], DiscoveryScanComplete) and (events[-1].found, events[-1].error) == (2, "")


def test_bms_devices_discover_goes_through_the_daemon(data: Path) -> None:
    result = CliRunner().invoke(cli, ["devices", "discover", "bacnet", "--network", "lan", "--range", "6200", "6299",
                                      "--timeout", "0.5", "--json", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert [r["device_id"] for r in json.loads(result.stdout)] == [f"bacnet:{AHU_ID}", f"bacnet:{VAV_ID}"]
