"""Commissioning through a real `bms daemon` and the simulators: discover or probe -> accept -> polled -> remove.

The daemon runs a scenario with one BACnet network and one Modbus network
(a configured meter at unit 1, so that its bridge runs); the BACnet devices
and the Modbus units are simulated in this process on free loopback ports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from actors.components.sim_bacnet import BacnetSimulatorThread
from actors.components.sim_modbus import ModbusSimulatorThread
from bms.cli import cli
from bms.client import ApiClient
from bms.config import load_profile
from bms.daemon import read_daemon_info
from bms.sim.bacnet import BacnetSimulator, SimDevice
from bms.sim.modbus import ModbusSimulator
from tests.bms.bacnet.loopback import free_port, host, profile
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess

AHU_ID, VAV_ID = 6300, 6301


@dataclass
class Site:
    data: Path
    daemon: DaemonProcess
    modbus_port: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    meter, _ = load_profile(ROOT / "conf/profiles/power-meter.toml")
    assert meter is not None
    bacnet = BacnetSimulator([SimDevice(AHU_ID, host(65), profile("ahu")), SimDevice(VAV_ID, host(64), profile("vav"))],
                             free_port(), interval=None)
    with BacnetSimulatorThread(bacnet) as sim, \
            ModbusSimulatorThread(ModbusSimulator({1: meter, 3: meter}, "127.0.0.1", 0)) as meters:
        path = tmp_path_factory.mktemp("commissioning")
        scenario = path / "site.toml"
        scenario.write_text(f"""profile_dirs = ["{ROOT / "conf/profiles"}"]

[site]
id = "lab"
name = "Lab"

[networks.bacnet.lan]
address = "127.0.0.1/8:{free_port()}"
device_port = {sim.simulator.device_port}
poll_interval = 0.5
timeout = 0.5
retries = 0

[networks.modbus.meters]
kind = "tcp"
timeout = 0.5
poll_interval = 0.5

[[devices]]
id = "ahu1"
profile = "ahu"
protocol = "bacnet"
network = "lan"
address = "{host(65)}"
device_instance = {AHU_ID}

[[devices]]
id = "main_meter"
profile = "power-meter"
protocol = "modbus"
network = "meters"
host = "127.0.0.1"
port = {meters.port}
unit_id = 1
""")
        daemon = DaemonProcess(path / "data", scenario)
        try:
            daemon.wait_for_event("running")
            wait_until(lambda: read_daemon_info(path / "data") is not None, timeout=10, what="daemon.json")
            yield Site(path / "data", daemon, meters.port)
            assert daemon.terminate() == 0
        finally:
            daemon.close()


def bms(site: Site, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--data", str(site.data)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def polled(site: Site, equip: str) -> bool:
    with ApiClient.from_data_dir(site.data) as api:
        return any(p.value is not None for p in api.points(under=equip))


def points_of(site: Site, equip: str) -> list[str]:
    with ApiClient.from_data_dir(site.data) as api:
        return [p.point_id for p in api.points(pattern=f"{equip}/*")] if api.nodes(node_type="Equip") else []


def test_a_probed_modbus_unit_is_accepted_polled_and_removed(site: Site) -> None:
    found = bms(site, "devices", "probe", "modbus", "127.0.0.1", "--port", str(site.modbus_port), "--units", "1-4",
                "--timeout", "0.3", "--json")
    unit = f"modbus:127.0.0.1:{site.modbus_port}:3"
    assert [(r["device_id"], r["state"]) for r in found] == [("main_meter", "Configured"), (unit, "Discovered")]
    assert found[1]["identification"] == "bms PM-3100 0.1.0"
    assert bms(site, "devices", "show", unit, "--json")["device_id"] == unit  # the probe's id works everywhere

    accepted = bms(site, "devices", "accept", unit, "--profile", "power-meter", "--json")
    assert (accepted["state"], accepted["reason"]) == ("Accepted", "equipment 'power-meter-3'")
    wait_until(lambda: polled(site, "power-meter-3"), timeout=20, what="the accepted meter polled")
    wait_until(lambda: bms(site, "devices", "show", unit, "--json")["online"] is True, timeout=20,
               what="the accepted meter answering")

    removed = bms(site, "devices", "remove", unit, "--yes", "--json")
    assert removed["state"] == "Discovered"
    assert points_of(site, "power-meter-3") == []
    line = site.daemon.wait_for_event("device removed")
    assert (line["device"], line["equip"], line["user"]) == (unit, "power-meter-3", "admin")  # the caller, the local admin


def test_a_discovered_bacnet_device_is_accepted_polled_and_removed(site: Site) -> None:
    found = bms(site, "devices", "discover", "bacnet", "--network", "lan", "--range", "6300", "6399",
                "--timeout", "0.5", "--json")
    assert [r["device_id"] for r in found] == ["ahu1", f"bacnet:{VAV_ID}"]  # a configured device: its own id
    assert bms(site, "devices", "show", f"bacnet:{AHU_ID}", "--json")["device_id"] == "ahu1"
    bms(site, "devices", "accept", f"bacnet:{VAV_ID}", "--equip-id", "vav9", "--json")
    wait_until(lambda: polled(site, "vav9"), timeout=20, what="the accepted VAV polled")
    removed = bms(site, "devices", "remove", "vav9", "--yes", "--json")  # its equipment id names it too
    assert (removed["device_id"], removed["state"]) == (f"bacnet:{VAV_ID}", "Discovered")
    assert points_of(site, "vav9") == []
    assert bms(site, "devices", "list", "--json")[-1]["state"] == "Discovered"
