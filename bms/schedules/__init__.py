"""Schedules and calendars as plain logic: what a schedule is, and its value at any moment.

* :class:`Schedule` -- a weekly program (:class:`TimeValue` entries per
  weekday), a default, and :class:`ScheduleException`\\ s on dates
  (:data:`DateRule`: a date, a range, yearly, relative, Easter-relative,
  a country's public holidays) with BACnet exception priorities;
* :func:`value_at`, :func:`transitions`, :func:`next_transition` -- in the
  site's time zone, daylight saving time included; :class:`Override` is a
  temporary change that ends by itself;
* :func:`check` -- a schedule's problems, one line each.

No threads: the schedule engine component owns the schedules, their store
and their timers.
"""

from bms.schedules._device import DeviceSchedule, ReadDeviceSchedules, WriteDeviceSchedule
from bms.schedules._evaluate import (
    Transition,
    check,
    covers,
    holiday_dates,
    instant,
    next_transition,
    nth_weekday,
    program_for,
    transitions,
    value_at,
    zone_of,
)
from bms.schedules._spec import (
    WEEKDAYS,
    DateRange,
    DateRule,
    Easter,
    Holidays,
    OnDate,
    Override,
    Relative,
    Schedule,
    ScheduleException,
    TimeValue,
    Yearly,
)

__all__ = [
    "WEEKDAYS",
    "DateRange",
    "DateRule",
    "DeviceSchedule",
    "Easter",
    "Holidays",
    "OnDate",
    "Override",
    "ReadDeviceSchedules",
    "Relative",
    "Schedule",
    "ScheduleException",
    "TimeValue",
    "Transition",
    "WriteDeviceSchedule",
    "Yearly",
    "check",
    "covers",
    "holiday_dates",
    "instant",
    "next_transition",
    "nth_weekday",
    "program_for",
    "transitions",
    "value_at",
    "zone_of",
]
