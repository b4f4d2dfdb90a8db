"""Discovery: Who-Is, then each device's information and each object's.

:func:`discover` returns :class:`DiscoveredDevice` records, which
:class:`~bms.bacnet.DiscoveryStore` saves. A device that answers I-Am but
cannot be read is still returned, with ``error`` saying why, so nothing
that was seen is silently lost.

``progress(task, done, total)`` is called at every step: task ``"who-is"``
(0/1, then 1/1), then one task per device, ``"device 1001"``, counting its
device object and then each of its objects; every device that answered is
reported (0/1) as soon as the Who-Is ends, before any is read. A CLI can
draw one progress bar per task (:class:`bms.devices.ScanTally` adds the
running counts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec

from bms.bacnet._client import BacnetClient
from bms.bacnet._records import IAmInfo, ObjectInfo
from bms.errors import ProtocolError

Progress = Callable[[str, int, int], None]


class DiscoveredDevice(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A device found by Who-Is, with what could be read of it."""

    instance: int
    address: str
    max_apdu: int
    segmentation: str
    seen: float
    name: str = ""
    vendor: str = ""
    vendor_id: int | None = None
    model: str = ""
    firmware: str = ""
    description: str = ""
    network: str = ""
    objects: tuple[ObjectInfo, ...] = ()
    error: str | None = None  # set when the device answered I-Am but could not be read


def _quiet(task: str, done: int, total: int) -> None:
    pass


async def discover(
    client: BacnetClient,
    low: int | None = None,
    high: int | None = None,
    timeout: float = 3.0,
    progress: Progress | None = None,
    *,
    concurrency: int = 4,
    network: str = "",
) -> list[DiscoveredDevice]:
    """Find the devices in ``low..high`` (all if None) and read them, ``concurrency`` at a time."""
    report = progress or _quiet
    report("who-is", 0, 1)
    i_ams = await client.who_is(low, high, timeout)
    report("who-is", 1, 1)
    for i_am in i_ams:  # every device found, before the first is read
        report(f"device {i_am.instance}", 0, 1)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(i_am: IAmInfo) -> DiscoveredDevice:
        async with gate:
            return await _read_device(client, i_am, report, network)

    return list(await asyncio.gather(*(one(i_am) for i_am in i_ams)))


async def _read_device(client: BacnetClient, i_am: IAmInfo, report: Progress, network: str) -> DiscoveredDevice:
    task = f"device {i_am.instance}"
    base = DiscoveredDevice(
        instance=i_am.instance, address=i_am.address, max_apdu=i_am.max_apdu,
        segmentation=i_am.segmentation, vendor_id=i_am.vendor_id, seen=client.clock.now(), network=network,
    )
    report(task, 0, 1)
    try:
        info = await client.read_device_info(i_am.address, i_am.instance)
    except ProtocolError as err:
        report(task, 1, 1)
        return msgspec.structs.replace(base, error=str(err))
    found = msgspec.structs.replace(
        base, name=info.name, vendor=info.vendor, vendor_id=info.vendor_id if info.vendor_id is not None else i_am.vendor_id,
        model=info.model, firmware=info.firmware, description=info.description,
        max_apdu=info.max_apdu, segmentation=info.segmentation,
    )
    objids = [objid for objid in info.object_list if objid != f"device,{i_am.instance}"]
    total = len(objids) + 1
    report(task, 1, total)
    try:
        objects = await client.read_object_infos(
            i_am.address, objids, progress=lambda done, _total: report(task, 1 + done, total)
        )
    except ProtocolError as err:
        return msgspec.structs.replace(found, error=f"objects: {err}")
    return msgspec.structs.replace(found, objects=tuple(objects), seen=client.clock.now())
