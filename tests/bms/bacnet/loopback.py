"""Real bacpypes3 devices and a client on loopback, isolated from other test runs.

Other suites on this machine may use BACnet's port 47808 at the same time,
so each test picks free UDP ports (devices on one, the client on another)
and the session picks a random 127.x.y.0/24 for its devices.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bms.bacnet import BacnetClient
from bms.config import BacnetNetwork, Profile, load_profile
from bms.sim.bacnet import BacnetSimulator, SimDevice

PROFILES = Path(__file__).resolve().parents[3] / "conf" / "profiles"
SUBNET = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}"
"""This session's device addresses: f"{SUBNET}.2", ".3"..."""


def host(n: int) -> str:
    return f"{SUBNET}.{n}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def profile(name: str) -> Profile:
    loaded, problems = load_profile(PROFILES / f"{name}.toml")
    assert loaded is not None, problems
    return loaded


def network(device_port: int, *, timeout: float = 0.5, retries: int = 0) -> BacnetNetwork:
    return BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=device_port, timeout=timeout, retries=retries)


@asynccontextmanager
async def lan(
    devices: Sequence[tuple[int, str, Profile] | SimDevice],
    *,
    timeout: float = 0.5,
    retries: int = 0,
    client_max_apdu: int = 1476,
    interval: float | None = None,
) -> AsyncIterator[tuple[BacnetSimulator, BacnetClient]]:
    """A started simulator (stepped by hand unless ``interval``) and a started client."""
    sim = BacnetSimulator(devices, free_port(), interval=interval)
    await sim.start()
    try:
        client = BacnetClient(network(sim.device_port, timeout=timeout, retries=retries), max_apdu=client_max_apdu)
        async with client:
            yield sim, client
    finally:
        await sim.stop()


async def until(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``predicate`` on the running loop until true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)
