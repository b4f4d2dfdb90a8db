"""Schedules and calendars as plain logic: what a schedule is, and its value at any moment.

* :class:`Schedule` -- a weekly program (:class:`TimeValue` entries per
  weekday), a default, and :class:`ScheduleException`\\ s on dates
  (:data:`DateRule`: a date, a range, yearly, relative, Easter-relative,
  a country's public holidays) with BACnet exception priorities;
* :func:`value_at`, :func:`transitions`, :func:`next_transition` -- in the
  site's time zone, daylight saving time included; :class:`Override` is a
  temporary change that ends by itself;
* :func:`check` -- a schedule's problems, one line each;
* :func:`template` -- the ``office``, ``retail``, ``school`` and ``24x7``
  occupancy schedules;
* :class:`ScheduleBook` -- the engine's state: assignments resolved to
  points, what is due and when, what to write; :class:`ScheduleStore` is
  ``schedules.db`` (loaded on first use: it brings SQLAlchemy);
* :mod:`bms.schedules._optimal` -- optimal start from each zone's learned
  warm-up and cool-down rates (:func:`learn`, :func:`lead_time`,
  :func:`optimal_start`).

No threads: the schedule engine component owns the schedules, their store
and their timers.
"""

from typing import TYPE_CHECKING, Any

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
from bms.schedules._optimal import MAX_LEAD, Rates, ZoneRates, lead_time, learn, optimal_start
from bms.schedules._spec import (
    WEEKDAYS,
    Assignment,
    DateRange,
    DateRule,
    Easter,
    Holidays,
    OnDate,
    Override,
    Relative,
    Schedule,
    ScheduleException,
    ScheduleSpec,
    TimeValue,
    Yearly,
)
from bms.schedules._templates import OCCUPIED, TEMPLATES, UNOCCUPIED, occupancy, template

if TYPE_CHECKING:
    from bms.schedules._book import (
        EarlyStart,
        PlannedWrite,
        PointRef,
        ScheduleBook,
        Target,
        point_refs,
        point_value,
        resolve,
    )
    from bms.schedules._device import DeviceSchedule, ReadDeviceSchedules, WriteDeviceSchedule
    from bms.schedules._store import ScheduleStore, StoredSchedule

# loaded on first use: they bring bms.messages (and the store SQLAlchemy), which the configuration
# schema, importing this package for its [[schedules]], must not
_LAZY = {"EarlyStart": "_book", "PlannedWrite": "_book", "PointRef": "_book", "ScheduleBook": "_book",
         "Target": "_book", "point_refs": "_book", "point_value": "_book", "resolve": "_book", "DeviceSchedule": "_device",
         "ReadDeviceSchedules": "_device",
         "WriteDeviceSchedule": "_device", "ScheduleStore": "_store", "StoredSchedule": "_store"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bms.schedules' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"bms.schedules.{module}"), name)


__all__ = [
    "MAX_LEAD",
    "OCCUPIED",
    "TEMPLATES",
    "UNOCCUPIED",
    "WEEKDAYS",
    "Assignment",
    "DateRange",
    "DateRule",
    "DeviceSchedule",
    "EarlyStart",
    "Easter",
    "Holidays",
    "OnDate",
    "Override",
    "PlannedWrite",
    "PointRef",
    "Rates",
    "ReadDeviceSchedules",
    "Relative",
    "Schedule",
    "ScheduleBook",
    "ScheduleException",
    "ScheduleSpec",
    "ScheduleStore",
    "StoredSchedule",
    "Target",
    "TimeValue",
    "Transition",
    "WriteDeviceSchedule",
    "Yearly",
    "ZoneRates",
    "check",
    "covers",
    "holiday_dates",
    "instant",
    "lead_time",
    "learn",
    "next_transition",
    "nth_weekday",
    "occupancy",
    "optimal_start",
    "point_refs",
    "point_value",
    "program_for",
    "resolve",
    "template",
    "transitions",
    "value_at",
    "zone_of",
]
