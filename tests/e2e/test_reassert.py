"""Commands hold in the field: a real `bms daemon` against a real `bms sim bacnet` process.

* The daemon restarts with an active command: the device (restarted too,
  so it forgot) gets it again and holds it.
* The device restarts while the daemon runs: the command is re-sent.
* Another client outranks our command on the device: the point is flagged
  ``command mismatch`` (points list, the API, the stream), and cleared once
  the device holds the command again.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner

from bms.bacnet import BacnetClient
from bms.cli import cli
from bms.client import ApiClient
from bms.daemon import read_daemon_info
from bms.messages import StatusChanged
from tests.bms.bacnet.loopback import free_port, host, network
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess

INSTANCE = 7101
ADDRESS = host(71)
DAMPER = "vav1/damper"  # analog-output,1 of the vav profile, relinquish default 50, command priority 8


class Site:
    """A scenario with one simulated VAV, the settings of a daemon that runs it, and its simulator process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.device_port = free_port()
        self.scenario = root / "site.toml"
        self.scenario.write_text(f"""
profile_dirs = ["{ROOT / 'conf/profiles'}"]

[site]
id = "lab"
name = "Lab"

[networks.bacnet.lan]
address = "127.0.0.1/8:{free_port()}"
device_port = {self.device_port}
poll_interval = 1.0
timeout = 0.5
retries = 0
restart_check = 1.0

[[devices]]
id = "vav1"
profile = "vav"
protocol = "bacnet"
network = "lan"
address = "{ADDRESS}"
device_instance = {INSTANCE}
""")
        self.settings = root / "bms.toml"
        self.settings.write_text(f"""
[daemon]
scenario = "{self.scenario}"

[points]
command_settle = 2.0
""")
        self.sim: subprocess.Popen[str] | None = None

    def start_sim(self) -> None:
        self.sim = subprocess.Popen([sys.executable, "-m", "bms", "sim", "bacnet", "--scenario", str(self.scenario)],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.sim.stdout is not None
        line = self.sim.stdout.readline()  # printed once the device serves
        assert f"device {INSTANCE}" in line, line
        self.drain = threading.Thread(target=_drain, args=(self.sim.stdout,), daemon=True)
        self.drain.start()

    def stop_sim(self) -> None:
        sim, self.sim = self.sim, None
        if sim is None:
            return
        if sim.poll() is None:
            sim.terminate()
            sim.wait(10)
        self.drain.join(5)
        assert sim.stdout is not None
        sim.stdout.close()

    def daemon(self) -> DaemonProcess:
        daemon = DaemonProcess(self.data, self.settings)
        daemon.wait_for_event("running")
        wait_until(lambda: read_daemon_info(self.data) is not None, timeout=10, what="daemon.json")
        return daemon


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = Site(tmp_path)
    try:
        yield made
    finally:
        made.stop_sim()


def device_level(api: ApiClient, point_id: str, priority: int = 8) -> Any:
    """The device's own priority array at ``priority``, read from the device now."""
    levels = api.priority(point_id).device_levels
    return None if levels is None else levels[priority - 1]


def test_a_restarted_daemon_sends_its_commands_again_to_a_device_that_forgot_them(site: Site) -> None:
    site.start_sim()
    daemon = site.daemon()
    try:
        with ApiClient.from_data_dir(site.data) as api:
            wait_until(lambda: api.point(DAMPER).value == 50.0, timeout=20, what="the damper polled")
            api.write(DAMPER, 70.0, priority=12, wait=5.0)
            assert device_level(api, DAMPER) == 70.0
        assert daemon.terminate() == 0
    finally:
        daemon.close()
    site.stop_sim()  # the device restarts too: it forgets what it was commanded
    site.start_sim()
    daemon = site.daemon()
    try:
        with ApiClient.from_data_dir(site.data) as api:
            view = api.priority(DAMPER)
            assert (view.effective, view.active_priority) == (70.0, 12)  # our array survived the restart
            wait_until(lambda: device_level(api, DAMPER) == 70.0, timeout=20, what="the command re-sent to the device")
            wait_until(lambda: api.point(DAMPER).value == 70.0, timeout=20, what="the device's value back at the command")
        daemon.wait_for_event("commands re-sent")
        assert daemon.terminate() == 0
    finally:
        daemon.close()


def test_a_device_restarted_under_a_running_daemon_gets_its_command_again(site: Site) -> None:
    site.start_sim()
    daemon = site.daemon()
    try:
        with ApiClient.from_data_dir(site.data) as api:
            wait_until(lambda: api.point(DAMPER).value == 50.0, timeout=20, what="the damper polled")
            api.write(DAMPER, 30.0, priority=10, wait=5.0)
            site.stop_sim()
            site.start_sim()  # a new process: empty priority arrays, a new time-of-device-restart
            wait_until(lambda: device_level(api, DAMPER) == 30.0, timeout=30, what="the command re-sent")
            wait_until(lambda: api.point(DAMPER).value == 30.0, timeout=20, what="the device back at the command")
            assert "mismatch" not in api.point(DAMPER).flags
        assert daemon.terminate() == 0
    finally:
        daemon.close()


async def _outrank(device_port: int, value: float | None, priority: int = 4) -> None:
    """Another BACnet client commands the damper on the device itself, above our command priority."""
    async with BacnetClient(network(device_port)) as other:
        await other.write(f"{ADDRESS}:{device_port}", "analog-output,1", value, priority=priority)


def test_a_device_that_holds_another_value_than_its_command_is_flagged_mismatch(site: Site) -> None:
    site.start_sim()
    daemon = site.daemon()
    try:
        with ApiClient.from_data_dir(site.data) as api:
            wait_until(lambda: api.point(DAMPER).value == 50.0, timeout=20, what="the damper polled")
            seen: list[StatusChanged] = []

            def follow(stream: Any) -> None:
                for event in stream:  # until the mismatch comes by
                    if isinstance(event, StatusChanged) and "mismatch" in event.flags:
                        seen.append(event)
                        return

            with api.stream(points=[DAMPER]) as stream:
                following = threading.Thread(target=follow, args=(stream,), daemon=True)
                following.start()
                api.write(DAMPER, 60.0, priority=8, wait=5.0)
                asyncio.run(_outrank(site.device_port, 15.0))  # a panel or another BMS holds priority 4 there
                wait_until(lambda: "mismatch" in api.point(DAMPER).flags, timeout=20, what="the mismatch flagged")
                state = api.point(DAMPER)
                assert state.value == 15.0
                assert state.reason == "command mismatch: commanded 60, the device reports 15 (2 s after the command)"
                following.join(20)
                assert seen and seen[0].reason == state.reason  # the stream carried it
            listed = CliRunner().invoke(cli, ["points", "list", "--data", str(site.data), "--pattern", DAMPER])
            assert listed.exit_code == 0 and "mismatch" in listed.output, listed.output
            asyncio.run(_outrank(site.device_port, None))  # they let go: the device holds our 60 again
            wait_until(lambda: api.point(DAMPER).value == 60.0, timeout=20, what="our command effective again")
            wait_until(lambda: "mismatch" not in api.point(DAMPER).flags, timeout=20, what="the mismatch cleared")
        assert daemon.terminate() == 0
    finally:
        daemon.close()
