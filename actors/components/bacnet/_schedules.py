"""Device-resident schedules on the BACnet bridge's loop: ReadDeviceSchedules and WriteDeviceSchedule.

:class:`DeviceTimetables` belongs to the
:class:`~actors.components.bacnet._poller.NetworkPoller` and runs on its
loop: it reads a device's Schedule and Calendar objects (from the object
list read at first contact, else read now) and writes one back, through
:mod:`bms.bacnet._schedules`, within ``within`` seconds (the client's own
deadline per request is shorter). A device of another bridge is
:class:`~bms.errors.NotFound`; a silent device a
:class:`~bms.errors.DeviceTimeout` naming it; a device's refusal the
:class:`~bms.bacnet.BacnetRejected` with its reason. A device that answered
is Up (``answered``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from actors.components.bacnet._device import PolledDevice
from bms.bacnet import BacnetClient
from bms.bacnet._schedules import read_device_schedules, write_device_schedule
from bms.errors import DeviceTimeout, NotFound, Unavailable
from bms.schedules import DeviceSchedule, WriteDeviceSchedule

SCHEDULE_TIMEOUT = 20.0
"""Seconds a caller gives a bridge to read or write a device's schedules (several requests per object)."""


class DeviceTimetables:
    """What a BACnet bridge does with its devices' Schedule and Calendar objects (see the module)."""

    def __init__(self, source: str, devices: Mapping[str, PolledDevice], answered: Callable[[PolledDevice], None]) -> None:
        self.source = source
        self._devices = devices
        self._answered = answered

    def _device(self, client: BacnetClient | None, device_id: str) -> tuple[BacnetClient, PolledDevice]:
        device = self._devices.get(device_id)
        if device is None:
            raise NotFound(f"{device_id}: not a device of {self.source}")
        if client is None:
            raise Unavailable(f"{self.source}: its BACnet network is not open")
        return client, device

    @staticmethod
    def _points(device: PolledDevice) -> dict[str, str]:
        return {p.objid: p.point_id for p in device.target.points if p.prop == "present-value"}

    async def _objects(self, client: BacnetClient, device: PolledDevice) -> tuple[str, ...]:
        if device.objects is not None:
            return device.objects
        if device.instance is None:
            found = await client.who_is(address=device.target.address)
            if not found:
                raise DeviceTimeout(f"{device.target.device_id}: no I-Am from {device.target.address}")
            device.instance = found[0].instance
        device.objects = await client.read_object_list(device.target.address, device.instance)
        return device.objects

    async def read(self, client: BacnetClient | None, device_id: str, within: float = SCHEDULE_TIMEOUT) -> list[DeviceSchedule]:
        client, device = self._device(client, device_id)
        try:
            async with asyncio.timeout(within):
                objects = await self._objects(client, device)
                found = await read_device_schedules(client, device.target.address, device_id, objects,
                                                    points=self._points(device))
        except TimeoutError:
            raise DeviceTimeout(f"{device_id}: its schedules were not read within {within:g} s") from None
        self._answered(device)
        return found

    async def write(self, client: BacnetClient | None, msg: WriteDeviceSchedule,
                    within: float = SCHEDULE_TIMEOUT) -> DeviceSchedule:
        client, device = self._device(client, msg.device_id)
        try:
            async with asyncio.timeout(within):
                written = await write_device_schedule(
                    client, device.target.address, msg.device_id, msg.object_id, schedule=msg.schedule,
                    dates=msg.dates, points=self._points(device))
        except TimeoutError:
            raise DeviceTimeout(f"{msg.device_id} {msg.object_id}: not written within {within:g} s") from None
        self._answered(device)
        return written
