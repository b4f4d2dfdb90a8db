"""A device's BACnet Schedule and Calendar objects read into bms, and written back.

* :func:`read_device_schedules` -- every Schedule and Calendar object of a
  device (from its object list) as :class:`~bms.schedules.DeviceSchedule`;
* :func:`read_schedule_object` / :func:`read_calendar_object` -- one of them;
* :func:`write_device_schedule` -- write a schedule's weekly-schedule,
  exception-schedule and schedule-default (a calendar's date-list) with
  WriteProperty, then read the object back.

A special event that refers to a Calendar object becomes one bms exception
per rule of that calendar's date-list, each named ``"<calendar name>
(calendar,N)"``; on the way back, consecutive exceptions so named with the
same program and priority become one special event referring to that
calendar again, and they must say what the calendar says (else the push is
refused: edit the calendar, or rename the exceptions to make them dates of
the schedule's own). A reference to an empty calendar has no exception to
carry it and is not written back.

Everything goes through the client's translated calls: a device's error is a
:class:`~bms.bacnet.BacnetRejected` with its reason, silence a
:class:`~bms.errors.DeviceTimeout`; a value that does not map is a
:class:`~bms.errors.CodecError` (reading) or :class:`~bms.errors.WriteRefused`
(writing) naming the device, the object and what (:mod:`._timetable`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bacpypes3.apdu import ErrorRejectAbortNack

from bms.bacnet._codec import translate
from bms.bacnet._objects import BINARY_TYPES, ObjectId, parse_object_id
from bms.bacnet._records import BacnetRejected
from bms.bacnet._timetable import (
    bacnet_weekly,
    calendar_entry,
    date_rule,
    effective_dates,
    exception_from,
    primitive,
    schedule_value,
    special_event,
    special_event_period,
    weekly_program,
)
from bms.bacnet._wire import format_object_identifier
from bms.errors import CodecError, ProtocolError, WriteRefused
from bms.schedules import DateRule, DeviceSchedule, Schedule, ScheduleException

if TYPE_CHECKING:
    from bms.bacnet._client import BacnetClient

_CALENDAR_NAME = re.compile(r"\((calendar,\d+)\)$")
_ABSENT = frozenset({"unknown-property"})


async def _read(client: BacnetClient, address: str, oid: ObjectId, prop: str, *, optional: bool = False) -> Any:
    try:
        return await client.io.rp(client.address(address)[0], (oid, prop, None))
    except BacnetRejected as err:
        if optional and err.error_code in _ABSENT:
            return None
        raise


def _where(device_id: str, objid: str) -> str:
    return f"{device_id} {objid}"


async def read_calendar_object(client: BacnetClient, address: str, device_id: str, objid: str) -> DeviceSchedule:
    """A Calendar object: its name, date-list as bms date rules, present value."""
    oid = parse_object_id(objid)
    name = str(await _read(client, address, oid, "object-name"))
    entries = await _read(client, address, oid, "date-list")
    present = await _read(client, address, oid, "present-value", optional=True)
    dates: list[DateRule] = []
    for i, entry in enumerate(entries or ()):
        try:
            dates.append(date_rule(entry))
        except CodecError as err:
            raise CodecError(f"{_where(device_id, str(oid))} date-list[{i + 1}]: {err}") from None
    return DeviceSchedule(device_id=device_id, object_id=str(oid), name=name, dates=dates,
                          present_value=None if present is None else bool(present))


def _reference(ref: Any, points: Mapping[str, str]) -> tuple[str, str]:
    """(text, object type): a point id where ``points`` binds the object's present value, else ``objid/prop``."""
    objid = format_object_identifier(ref.objectIdentifier)
    prop = str(ref.propertyIdentifier)
    index = ref.propertyArrayIndex
    device = ref.deviceIdentifier
    if device is None and index is None and prop == "present-value" and objid in points:
        return points[objid], objid.split(",")[0]
    text = f"{objid}/{prop}" + (f"[{int(index)}]" if index is not None else "")
    if device is not None:
        text = f"{format_object_identifier(device)}/{text}"
    return text, objid.split(",")[0]


async def read_schedule_object(
    client: BacnetClient, address: str, device_id: str, objid: str, *,
    points: Mapping[str, str] | None = None, calendars: dict[str, DeviceSchedule] | None = None,
) -> DeviceSchedule:
    """A Schedule object as a bms schedule (``points``: objid -> point id of the device's bound points;
    ``calendars``: Calendar objects already read, by objid, filled as references are met)."""
    oid = parse_object_id(objid)
    where = _where(device_id, str(oid))
    calendars = {} if calendars is None else calendars
    name = str(await _read(client, address, oid, "object-name"))
    refs_raw = await _read(client, address, oid, "list-of-object-property-references", optional=True)
    refs = [_reference(r, points or {}) for r in refs_raw or ()]
    binary = any(kind in BINARY_TYPES for _, kind in refs)
    default_raw = await _read(client, address, oid, "schedule-default")
    weekly_raw = await _read(client, address, oid, "weekly-schedule", optional=True)
    events = await _read(client, address, oid, "exception-schedule", optional=True)
    period = await _read(client, address, oid, "effective-period", optional=True)
    priority = await _read(client, address, oid, "priority-for-writing", optional=True)
    present = await _read(client, address, oid, "present-value", optional=True)
    try:
        weekly = weekly_program(weekly_raw, binary)
        exceptions: list[ScheduleException] = []
        for i, event in enumerate(events or ()):
            try:
                entry, calendar = special_event_period(event)
                if entry is not None:
                    exceptions.append(exception_from(event, f"exception {i + 1}", date_rule(entry), binary))
                    continue
                assert calendar is not None
                found = calendars.get(calendar)
                if found is None:
                    found = calendars[calendar] = await read_calendar_object(client, address, device_id, calendar)
                exceptions += [exception_from(event, f"{found.name} ({calendar})", rule, binary) for rule in found.dates]
            except CodecError as err:
                raise CodecError(f"exception-schedule[{i + 1}]: {err}") from None
        schedule = Schedule(name=name, default=schedule_value(default_raw, binary), weekly=weekly,  # type: ignore[arg-type]
                            exceptions=exceptions)
        value = schedule_value(present, binary) if present is not None else None
    except CodecError as err:
        raise CodecError(f"{where}: {err}") from None
    start, end = effective_dates(period)
    return DeviceSchedule(device_id=device_id, object_id=str(oid), name=name, schedule=schedule,
                          references=[text for text, _ in refs], effective_from=start, effective_to=end,
                          priority_for_writing=int(priority) if priority is not None else 16, present_value=value)


async def read_device_schedules(
    client: BacnetClient, address: str, device_id: str, objects: Sequence[str], *,
    points: Mapping[str, str] | None = None,
) -> list[DeviceSchedule]:
    """Every Calendar and Schedule object among ``objects`` (the device's object list), calendars first."""
    calendars: dict[str, DeviceSchedule] = {}
    found: list[DeviceSchedule] = []
    for objid in sorted(o for o in objects if o.startswith("calendar,")):
        calendars[objid] = await read_calendar_object(client, address, device_id, objid)
    for objid in sorted(o for o in objects if o.startswith("schedule,")):
        found.append(await read_schedule_object(client, address, device_id, objid, points=points, calendars=calendars))
    return list(calendars.values()) + found


# ------------------------------------------------------------------ writing


async def _write(client: BacnetClient, address: str, oid: ObjectId, prop: str, value: Any) -> None:
    app = client.application()
    text, addr = client.address(address)
    what = f"write-property {oid} {prop}"
    result = await client.call(what, text, app.write_property(addr, client.io.identifier(oid), client.io.property(prop),
                                                              value))
    if isinstance(result, ErrorRejectAbortNack):
        raise translate(result, text, what)
    if isinstance(result, str):
        raise ProtocolError(f"{text}: {what}: cannot encode ({result})")


def _grouped(exceptions: Sequence[ScheduleException]) -> list[tuple[str | None, list[ScheduleException]]]:
    """Exceptions in order; consecutive ones of one calendar (by name) with one program and priority as a group."""
    groups: list[tuple[str | None, list[ScheduleException]]] = []
    for ex in exceptions:
        match = _CALENDAR_NAME.search(ex.name)
        calendar = match[1] if match else None
        if calendar is not None and groups:
            last_cal, members = groups[-1]
            head = members[0]
            if last_cal == calendar and head.name == ex.name and head.program == ex.program and head.priority == ex.priority:
                members.append(ex)
                continue
        groups.append((calendar, [ex]))
    return groups


async def write_device_schedule(
    client: BacnetClient, address: str, device_id: str, objid: str, *,
    schedule: Schedule | None = None, dates: Sequence[DateRule] | None = None,
    points: Mapping[str, str] | None = None,
) -> DeviceSchedule:
    """Write a Schedule object (``schedule``) or a Calendar object (``dates``), then read it back."""
    oid = parse_object_id(objid)
    where = _where(device_id, str(oid))
    if oid.type == "calendar":
        if dates is None:
            raise WriteRefused(where, "a Calendar object takes dates, not a schedule")
        entries = [calendar_entry(rule, f"{where} dates[{i + 1}]") for i, rule in enumerate(dates)]
        await _write(client, address, oid, "date-list", entries)
        return await read_calendar_object(client, address, device_id, str(oid))
    if oid.type != "schedule":
        raise WriteRefused(where, "not a Schedule or Calendar object")
    if schedule is None:
        raise WriteRefused(where, "a Schedule object takes a schedule, not dates")
    like = await _read(client, address, oid, "schedule-default")
    events: list[Any] = []
    calendars: dict[str, DeviceSchedule] = {}
    for calendar, members in _grouped(schedule.exceptions):
        if calendar is None:
            events.append(special_event(members[0], like, where))
            continue
        found = calendars.get(calendar)
        if found is None:
            found = calendars[calendar] = await read_calendar_object(client, address, device_id, calendar)
        if [m.when for m in members] != list(found.dates):
            raise WriteRefused(where, f"exceptions {members[0].name!r} differ from {calendar}'s date-list: push "
                                      f"the calendar, or rename them to make them dates of this schedule")
        events.append(special_event(members[0], like, where, calendar=calendar))
    weekly = bacnet_weekly({str(day): program for day, program in schedule.weekly.items()}, like, where)
    default = primitive(schedule.default, like, f"{where} default")
    await _write(client, address, oid, "weekly-schedule", weekly)
    await _write(client, address, oid, "exception-schedule", events)
    await _write(client, address, oid, "schedule-default", default)
    return await read_schedule_object(client, address, device_id, str(oid), points=points, calendars=calendars)
