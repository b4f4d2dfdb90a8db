"""Device-resident schedules for the schedule engine: pull a device's Schedule and Calendar objects, push one.

Plain coroutines over the API's :class:`~bms.api.routing.Services` (the lead
wires them into the engine's router as ``POST
/api/schedules/devices/{device}/pull`` and ``.../push``):

* :func:`pull` asks the site's BACnet bridges (``bridges``: their registry
  names, :func:`actors.components.bacnet.bacnet_bridge_names`) for
  :class:`~bms.schedules.ReadDeviceSchedules`; the bridge of the device
  answers, the others refuse with NotFound;
* :func:`push` writes a schedule (or a calendar's dates) to one object of
  the device with :class:`~bms.schedules.WriteDeviceSchedule` and answers
  the object as the device now holds it. Without ``object_id`` it picks the
  device's Schedule object named like the schedule, else its only one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from actors.components.bacnet._schedules import SCHEDULE_TIMEOUT
from bms.api.routing import Services
from bms.errors import ConfigError, NotFound, ServiceUnavailable
from bms.schedules import DateRule, DeviceSchedule, ReadDeviceSchedules, Schedule, WriteDeviceSchedule

ASK_MARGIN = 2.0
"""Seconds the caller waits for a bridge beyond the time the bridge gives the device."""


class PushBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Push ``name`` (the engine's schedule of that name, or ``schedule`` / ``dates`` given here) to the device."""

    name: str
    object_id: str | None = None
    schedule: Schedule | None = None
    dates: list[DateRule] | None = None


async def _ask_bridges(services: Services, bridges: Sequence[str], device_id: str, message: Any) -> Any:
    for bridge in bridges:
        try:
            return await services.ask(bridge, message, timeout=SCHEDULE_TIMEOUT + ASK_MARGIN)
        except (NotFound, ServiceUnavailable):
            continue
    raise NotFound(f"{device_id}: no BACnet bridge of the site polls it")


async def pull(services: Services, device_id: str, bridges: Sequence[str]) -> list[DeviceSchedule]:
    """The device's Schedule and Calendar objects, converted to bms schedules and date rules."""
    found: list[DeviceSchedule] = await _ask_bridges(services, bridges, device_id,
                                                     ReadDeviceSchedules(device_id=device_id))
    return found


def _target(held: Sequence[DeviceSchedule], name: str, device_id: str, calendar: bool) -> str:
    kind = "calendar," if calendar else "schedule,"
    objects = [d for d in held if d.object_id.startswith(kind)]
    named = [d for d in objects if d.name == name]
    if len(named) == 1:
        return named[0].object_id
    if len(objects) == 1:
        return objects[0].object_id
    what = "Calendar" if calendar else "Schedule"
    listed = ", ".join(f"{d.object_id} ({d.name})" for d in objects) or "none"
    raise ConfigError(f"{device_id} has {len(objects)} {what} objects ({listed}): name one with --object")


async def push(services: Services, device_id: str, body: PushBody, bridges: Sequence[str], *, user: str = "",
               lookup: Callable[[str], Awaitable[Schedule]] | None = None) -> DeviceSchedule:
    """Write ``body``'s schedule (or dates) to the device's object; the object as read back."""
    schedule, dates = body.schedule, body.dates
    if schedule is not None and dates is not None:
        raise ConfigError("push a schedule or a calendar's dates, not both")
    if schedule is None and dates is None:
        if lookup is None:
            raise NotFound(f"no schedule named {body.name!r}")
        schedule = await lookup(body.name)
    object_id = body.object_id
    if object_id is None:
        object_id = _target(await pull(services, device_id, bridges), body.name, device_id, dates is not None)
    written: DeviceSchedule = await _ask_bridges(services, bridges, device_id, WriteDeviceSchedule(
        device_id=device_id, object_id=object_id, schedule=schedule, dates=dates, user=user))
    return written
