"""A simulated controller's own BACnet Schedule and Calendar objects, run on the simulator's clock.

The simulated AHU serves ``schedule,1`` ("Fan schedule": an office week,
Monday to Friday active 07:00-18:00, writing the fan command
``binary-output,1`` at priority 16, a 25 December exception and one that
refers to ``calendar,1``) and ``calendar,1`` ("Holidays": New Year's Day,
24-31 December 2026 and the fourth Thursday of November).

Clients may write a schedule's weekly-schedule, exception-schedule,
schedule-default and effective-period and a calendar's date-list (no
priority array is involved); any other property is write-access-denied.
The simulator evaluates them with :mod:`bms.schedules` on its own clock
(:meth:`ScheduleRunner.run`, at start, at each model step and after each
write): a calendar's present-value says whether today is in its date-list,
a schedule's present-value is the program's value now. It does not write
the referenced objects (the fan command stays the model's): present-value
shows what the controller would command.

bacpypes3's own local ScheduleObject interprets the program on the wall
clock with timers of its own and compares AnyAtomic values with Null (so a
relinquishing time value never matches); these objects are plain ones,
evaluated here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bacpypes3.basetypes import (
    CalendarEntry,
    DailySchedule,
    DateRange,
    DeviceObjectPropertyReference,
    SpecialEvent,
    SpecialEventPeriod,
    TimeValue,
    WeekNDay,
)
from bacpypes3.constructeddata import AnyAtomic
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.object import CalendarObject, ScheduleObject
from bacpypes3.primitivedata import Date, Enumerated, ObjectIdentifier, Time

from bms.bacnet._local import _WriteAccess
from bms.bacnet._timetable import (
    ANY,
    atomic,
    date_rule,
    exception_from,
    primitive,
    schedule_value,
    special_event_period,
    weekly_program,
)
from bms.errors import BmsError
from bms.schedules import DateRule, Schedule, ScheduleException, covers, value_at

Clock = Callable[[], dt.datetime]


class _Changes:
    """Calls ``_changed`` after a client's write (set by the simulator)."""

    _changed: Callable[[], None] | None = None

    async def write_property(self, attr: Any, value: Any, index: Any = None, priority: Any = None) -> None:
        await super().write_property(attr, value, index, priority)  # type: ignore[misc]
        if self._changed is not None:
            self._changed()


class ServedSchedule(_Changes, _WriteAccess, LocalObject, ScheduleObject):  # type: ignore[misc]
    """A Schedule object whose program clients may write; its present value is set by the simulator."""

    _writable = frozenset({"weeklySchedule", "exceptionSchedule", "scheduleDefault", "effectivePeriod"})


class ServedCalendar(_Changes, _WriteAccess, LocalObject, CalendarObject):  # type: ignore[misc]
    """A Calendar object whose date-list clients may write."""

    _writable = frozenset({"dateList"})
    notificationClass = None  # bacpypes3's _post_init reads it; a Calendar object has none


def _tv(hour: int, value: Any) -> TimeValue:
    return TimeValue(time=Time((hour, 0, 0, 0)), value=AnyAtomic(value))


def holidays_calendar(instance: int = 1) -> ServedCalendar:
    """``calendar,1``: New Year's Day (every year), 24-31 December 2026, the fourth Thursday of November."""
    return ServedCalendar(
        objectIdentifier=("calendar", instance), objectName="Holidays", presentValue=False,
        dateList=[
            CalendarEntry(date=Date((ANY, 1, 1, ANY))),
            CalendarEntry(dateRange=DateRange(startDate=Date((126, 12, 24, 4)), endDate=Date((126, 12, 31, 4)))),
            CalendarEntry(weekNDay=WeekNDay(bytes([11, 4, 4]))),
        ],
    )


def fan_schedule(instance: int = 1, calendar: int = 1, target: str = "binary-output,1") -> ServedSchedule:
    """``schedule,1``: the office week for the fan command, closed on 25 December and on the calendar's days."""
    on, off = Enumerated(1), Enumerated(0)
    office = DailySchedule(daySchedule=[_tv(7, on), _tv(18, off)])
    closed = DailySchedule(daySchedule=[])
    return ServedSchedule(
        objectIdentifier=("schedule", instance), objectName="Fan schedule", presentValue=AnyAtomic(off),
        effectivePeriod=DateRange(startDate=Date((ANY, ANY, ANY, ANY)), endDate=Date((ANY, ANY, ANY, ANY))),
        weeklySchedule=[office] * 5 + [closed] * 2,
        exceptionSchedule=[
            SpecialEvent(period=SpecialEventPeriod(calendarEntry=CalendarEntry(date=Date((ANY, 12, 25, ANY)))),
                         listOfTimeValues=[_tv(0, off)], eventPriority=10),
            SpecialEvent(period=SpecialEventPeriod(calendarReference=ObjectIdentifier(("calendar", calendar))),
                         listOfTimeValues=[_tv(0, off)], eventPriority=11),
        ],
        scheduleDefault=AnyAtomic(off),
        listOfObjectPropertyReferences=[DeviceObjectPropertyReference(
            objectIdentifier=ObjectIdentifier(target), propertyIdentifier="present-value")],
        priorityForWriting=16, statusFlags=[0, 0, 0, 0], reliability="no-fault-detected", outOfService=False,
    )


def calendar_rules(calendar: Any) -> list[DateRule]:
    return [date_rule(entry) for entry in calendar.dateList or ()]


def program_of(obj: Any, calendars: dict[str, Any]) -> Schedule:
    """A served Schedule object's program as a bms schedule (calendar references resolved from ``calendars``)."""
    binary = any(str(r.objectIdentifier[0]).startswith("binary") for r in obj.listOfObjectPropertyReferences or ())
    exceptions: list[ScheduleException] = []
    for i, event in enumerate(obj.exceptionSchedule or ()):
        entry, ref = special_event_period(event)
        rules = [date_rule(entry)] if entry is not None else calendar_rules(calendars[ref]) if ref in calendars else []
        exceptions += [exception_from(event, f"exception {i + 1}", rule, binary) for rule in rules]
    return Schedule(name=str(obj.objectName), default=schedule_value(obj.scheduleDefault, binary),
                    weekly=weekly_program(obj.weeklySchedule, binary), exceptions=exceptions)  # type: ignore[arg-type]


def _in_period(obj: Any, day: dt.date) -> bool:
    period = obj.effectivePeriod
    if period is None:
        return True

    def bound(raw: Any) -> dt.date | None:
        year, month, d, _ = (int(x) for x in raw)
        if ANY in (year, month, d):
            return None
        return dt.date(year + 1900, month, d)

    start, end = bound(period.startDate), bound(period.endDate)
    return (start is None or start <= day) and (end is None or day <= end)


class ScheduleRunner:
    """Evaluates a device's served Schedule and Calendar objects on ``clock`` (an aware datetime)."""

    def __init__(self, clock: Clock, log: Any) -> None:
        self.clock = clock
        self.log = log

    def run(self, objects: dict[str, Any]) -> None:
        """Set the present value of every Calendar and Schedule object among ``objects`` (objid -> object)."""
        now = self.clock()
        calendars = {k: o for k, o in objects.items() if isinstance(o, ServedCalendar)}
        for obj in calendars.values():
            try:
                obj.presentValue = any(covers(rule, now.date()) for rule in calendar_rules(obj))
            except BmsError as err:
                self.log.warning("simulated calendar not evaluated", objid=str(obj.objectIdentifier), error=str(err))
        for key, obj in objects.items():
            if not isinstance(obj, ServedSchedule):
                continue
            try:
                if not _in_period(obj, now.date()):
                    continue
                value, _ = value_at(program_of(obj, calendars), now.timestamp(), now.tzinfo or dt.UTC)
                current = atomic(obj.presentValue)
                new = primitive(value, obj.scheduleDefault, key)
                if current is None or type(current) is not type(new) or current != new:
                    obj.presentValue = AnyAtomic(new)
            except (BmsError, ValueError, TypeError) as err:
                self.log.warning("simulated schedule not evaluated", objid=key, error=str(err))
