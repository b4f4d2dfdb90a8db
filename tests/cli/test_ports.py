"""`bms sim` and offline discovery refuse an address another process holds: one line naming it and its holder, exit 1."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import bms.cli._sim  # noqa: F401  (registers `bms sim` until bms.cli imports it)
from bms.cli._app import cli
from tests.bms.bacnet.loopback import free_port, host
from tests.cli.test_sim import BMS_SIM_SCRIPT, Served, scenario

DEVICE = host(71)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return scenario(tmp_path, f"""
[networks.bacnet.main]
address = "127.0.0.1/8:{free_port()}"
device_port = {free_port()}

[[devices]]
id = "vav9"
profile = "vav"
protocol = "bacnet"
network = "main"
address = "{DEVICE}"
device_instance = 9171
""")


@pytest.fixture
def serving(site: Path) -> Iterator[tuple[Served, int]]:
    """`bms-sim bacnet` serving the site's device in a process of its own."""
    served = Served([*BMS_SIM_SCRIPT, "bacnet", "--scenario", str(site)])
    try:
        lines = served.until("serving")
        (line,) = [x for x in lines if x.startswith("bacnet ")]
        yield served, int(line.split()[1].rsplit(":", 1)[1])
    finally:
        served.close()


def test_a_second_bms_sim_bacnet_on_the_same_address_is_refused(serving: tuple[Served, int], site: Path) -> None:
    first, port = serving
    second = subprocess.run([*BMS_SIM_SCRIPT, "bacnet", "--scenario", str(site)], capture_output=True, text=True,
                            timeout=30)
    assert second.returncode == 1
    assert second.stderr.splitlines() == [
        f"error: {DEVICE}:{port}/udp is in use by bms-sim bacnet pid {first.proc.pid}"]
    assert "serving" not in second.stdout
    assert first.proc.poll() is None


def test_offline_discovery_on_a_held_address_is_refused_and_from_a_free_one_finds_the_device(
    serving: tuple[Served, int], site: Path, tmp_path: Path,
) -> None:
    first, port = serving
    runner = CliRunner()
    common = ["--scenario", str(site), "--data", str(tmp_path / "data"), "--timeout", "0.5"]
    held = runner.invoke(cli, ["devices", "discover", "bacnet", "--local", f"{DEVICE}/8:{port}", *common])
    assert held.exit_code == 1
    assert held.output.strip() == f"error: {DEVICE}:{port}/udp is in use by bms-sim bacnet pid {first.proc.pid}"
    found = runner.invoke(cli, ["devices", "discover", "bacnet", "--local", f"127.0.0.1/8:{free_port()}", *common,
                                "--json"])
    assert found.exit_code == 0, found.output
    (device,) = json.loads(found.stdout)  # the simulator answers the one that asked from a free address
    assert device["address"].split(":")[0] == DEVICE


def test_bms_sim_modbus_on_a_held_port_names_the_holder() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        result = CliRunner().invoke(cli, ["sim", "modbus", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"error: 127.0.0.1:{port}/tcp is in use by this process (pid ")
