"""Discovery hears I-Ams broadcast to the BACnet port: on loopback, and between two hosts (network namespaces).

A real device answers Who-Is with an I-Am broadcast on its subnet, to the
BACnet port; a client bound to that port of its interface hears it. On
loopback, bacpypes3 takes any 127.x on its own port for itself, so a
client could not share the port with the devices at all; in our code only
an application's own address is itself. Between two hosts the broadcast
crosses a real link: two network namespaces joined by a veth pair, each
side a process of its own (``python -m tests.bms.bacnet.netns_peer``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.bacnet import BacnetClient
from bms.config import BacnetNetwork
from bms.sim.bacnet import BacnetSimulator, DeviceOptions, SimDevice
from tests.bms.bacnet.loopback import free_port, host, profile

AHU, VAV = profile("ahu"), profile("vav")
ROOT = Path(__file__).resolve().parents[3]


def test_a_client_on_the_bacnet_port_hears_broadcast_i_ams_and_reads_its_neighbours_on_loopback() -> None:
    async def body() -> None:
        port = free_port()  # the "BACnet port" of this test: devices and client share it
        sim = BacnetSimulator([
            SimDevice(1001, host(2), AHU, DeviceOptions(broadcast_i_am=True)),
            SimDevice(1101, host(3), VAV, DeviceOptions(broadcast_i_am=True)),
            SimDevice(1102, host(4), VAV),  # answers the asker alone, as bacpypes3 does
        ], port, interval=None)
        await sim.start()
        try:
            network = BacnetNetwork(address=f"{host(1)}/8:{port}", device_port=port, timeout=0.5, retries=0)
            async with BacnetClient(network) as client:
                found = await client.who_is(timeout=0.5)
                assert [(i.instance, i.address) for i in found] == [
                    (1001, f"{host(2)}:{port}"), (1101, f"{host(3)}:{port}"), (1102, f"{host(4)}:{port}")]
                [sat] = await client.read_points(host(2), [("sat", "analog-value,1", "present-value")])
                assert (sat.value, sat.fault) == (13.0, None)
        finally:
            await sim.stop()

    asyncio.run(body())


# ------------------------------------------------------------------ two hosts


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)


def _netns_impossible() -> str | None:
    if shutil.which("ip") is None:
        return "no 'ip' command (iproute2) on this machine"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"bmsprobe{uuid.uuid4().hex[:6]}"
    made = _ip("netns", "add", probe)
    if made.returncode != 0:
        return f"'ip netns add' is refused here: {made.stderr.strip()}"
    _ip("netns", "del", probe)
    return None


@pytest.fixture
def two_hosts() -> Iterator[tuple[str, str, str]]:
    """Namespaces (client side, device side) joined by a veth pair on a /24 of their own; removed after."""
    why = _netns_impossible()
    if why is not None:
        pytest.skip(why)
    tag = uuid.uuid4().hex[:6]
    client_ns, device_ns = f"bmsc{tag}", f"bmsd{tag}"
    subnet = f"10.{int(tag[:2], 16) % 200 + 20}.{int(tag[2:4], 16)}"
    try:
        for ns in (client_ns, device_ns):
            assert _ip("netns", "add", ns).returncode == 0
            assert _ip("-n", ns, "link", "set", "lo", "up").returncode == 0
        veth = _ip("link", "add", f"vc{tag}", "netns", client_ns, "type", "veth", "peer", "name", f"vd{tag}",
                   "netns", device_ns)
        assert veth.returncode == 0, veth.stderr
        for ns, dev, n in ((client_ns, f"vc{tag}", 1), (device_ns, f"vd{tag}", 2)):
            assert _ip("-n", ns, "addr", "add", f"{subnet}.{n}/24", "dev", dev).returncode == 0
            assert _ip("-n", ns, "link", "set", dev, "up").returncode == 0
        yield client_ns, device_ns, subnet
    finally:
        for ns in (client_ns, device_ns):
            _ip("netns", "del", ns)  # takes its end of the veth pair with it


def _peer(ns: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.bms.bacnet.netns_peer", *args],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_discovery_hears_a_device_on_another_host_that_broadcasts_its_i_am(two_hosts: tuple[str, str, str]) -> None:
    client_ns, device_ns, subnet = two_hosts
    device = _peer(device_ns, "device", f"{subnet}.2", "47808")
    try:
        assert device.stdout is not None and device.stdout.readline().strip() == "ready", device.stderr
        client = _peer(client_ns, "client", f"{subnet}.1/24:47808", "47808")
        try:
            out, err = client.communicate(timeout=60)
        finally:
            if client.poll() is None:
                client.kill()
                client.communicate()
        assert client.returncode == 0, err
        got = json.loads(out)
        assert got["found"] == [[1001, f"{subnet}.2:47808"]]  # heard: the I-Am went to {subnet}.255:47808
        assert got["name"] == "AHU-1" and got["sat"] == 13.0
        assert got["broadcast_i_ams"] >= 1  # and it was a broadcast, not an answer to us alone
    finally:
        device.communicate(input="", timeout=30)  # the device stops when its input closes
