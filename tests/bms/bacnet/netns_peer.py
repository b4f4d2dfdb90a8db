"""One side of the two-host broadcast test, run inside a network namespace (see test_broadcast.py).

    python -m tests.bms.bacnet.netns_peer device ADDRESS PORT
        serves AHU-1 (instance 1001, broadcast I-Am) on ADDRESS/24:PORT; prints "ready"; stops when stdin closes
    python -m tests.bms.bacnet.netns_peer client ADDRESS/MASK:PORT DEVICE_PORT
        Who-Is to the subnet's broadcast, then reads what it found; prints one JSON line
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import sys
from typing import Any

from bms.bacnet import BacnetClient
from bms.config import BacnetNetwork
from bms.logs import set_level
from bms.sim.bacnet import BacnetSimulator, DeviceOptions, SimDevice
from tests.bms.bacnet.loopback import profile


async def device(address: str, port: int) -> None:
    sim = BacnetSimulator([SimDevice(1001, address, profile("ahu"), DeviceOptions(name="AHU-1", broadcast_i_am=True))],
                          port, interval=None, mask=24)
    await sim.start()
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the test closes it
    finally:
        await sim.stop()


async def client(address: str, device_port: int) -> dict[str, Any]:
    interface = ipaddress.ip_interface(address.rsplit(":", 1)[0])
    network = BacnetNetwork(address=address, device_port=device_port, broadcast=str(interface.network.broadcast_address),
                            timeout=1.0, retries=1)
    async with BacnetClient(network) as bacnet:
        broadcasts = 0

        def count(apdu: Any) -> None:
            nonlocal broadcasts
            broadcasts += type(apdu.pduDestination).__name__ in ("LocalBroadcast", "GlobalBroadcast")

        bacnet.application().i_am_sinks.append(count)
        found = await bacnet.who_is(timeout=2.0)
        out: dict[str, Any] = {"found": [[i.instance, i.address] for i in found], "broadcast_i_ams": broadcasts}
        if found:
            info = await bacnet.read_device_info(found[0].address, found[0].instance)
            [sat] = await bacnet.read_points(found[0].address, [("sat", "analog-value,1", "present-value")])
            out |= {"name": info.name, "sat": sat.value}
        return out


def main(argv: list[str]) -> None:
    set_level("warning")
    role, address, port = argv
    if role == "device":
        asyncio.run(device(address, int(port)))
    else:
        print(json.dumps(asyncio.run(client(address, int(port)))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
