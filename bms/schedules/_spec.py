"""What a schedule is: a weekly program, a default, and exceptions with BACnet exception-schedule priorities.

A day's program is a list of :class:`TimeValue` (``"07:00" -> "occupied"``)
in the site's wall-clock time. Exceptions say which dates they cover
(:data:`DateRule`):

============  ===============================================================
``date``      one date (``2026-12-24``)
``range``     a date range, both ends included
``yearly``    every year on a month and day (every 25 December)
``relative``  the nth weekday of a month (``nth = 4, weekday = "thu", month =
              11``: Thanksgiving; ``nth = -1``: the last), ``offset`` days after
              (the Friday after Thanksgiving: ``offset = 1``)
``easter``    Easter Sunday plus ``offset`` days (Good Friday: -2)
``holidays``  the public holidays of a country (and subdivision) computed by
              the ``holidays`` library, optionally only those ``named``
============  ===============================================================

and carry a program of their own (empty: the schedule's default all day)
and a ``priority`` 1..16 (1 highest): of the exceptions covering a date, the
one with the highest priority wins, as in a BACnet Schedule object.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

import msgspec
from msgspec import Meta

Value = Union[float, int, bool, str, None]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Month = Annotated[int, Meta(ge=1, le=12)]
Day = Annotated[int, Meta(ge=1, le=31)]
IsoDate = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]
ClockTime = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", description="HH:MM")]
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


class TimeValue(msgspec.Struct, frozen=True, forbid_unknown_fields=True, array_like=False):
    """From ``at`` (wall-clock HH:MM) on, the value is ``value``."""

    at: ClockTime
    value: Value

    @property
    def seconds(self) -> int:
        """Seconds after midnight."""
        found = _TIME.match(self.at)
        assert found is not None
        return int(found[1]) * 3600 + int(found[2]) * 60 + int(found[3] or 0)


class _Rule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind"):
    pass


class OnDate(_Rule, frozen=True, tag="date"):
    date: IsoDate


class DateRange(_Rule, frozen=True, tag="range"):
    start: IsoDate
    end: IsoDate


class Yearly(_Rule, frozen=True, tag="yearly"):
    month: Month
    day: Day


class Relative(_Rule, frozen=True, tag="relative"):
    month: Month
    weekday: Weekday
    nth: Annotated[int, Meta(ge=-5, le=5)]  # 1..5, or -1 (last) .. -5; never 0
    offset: Annotated[int, Meta(ge=-31, le=31)] = 0


class Easter(_Rule, frozen=True, tag="easter"):
    offset: Annotated[int, Meta(ge=-60, le=60)] = 0


class Holidays(_Rule, frozen=True, tag="holidays"):
    country: str  # ISO 3166 code as the holidays library knows it: "GB", "US", "DE"
    subdiv: str | None = None  # "ENG", "NY", "BY"
    named: list[str] = []  # only these (by name as the library gives it); empty: all


DateRule = Union[OnDate, DateRange, Yearly, Relative, Easter, Holidays]


class ScheduleException(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Dates that run another program: the highest ``priority`` (1) of those covering a date wins."""

    name: str
    when: DateRule
    program: list[TimeValue] = []  # empty: the schedule's default all day
    priority: Annotated[int, Meta(ge=1, le=16)] = 16


class Schedule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A weekly program (per weekday), a default value and exceptions."""

    name: str
    default: Value = None
    weekly: dict[Weekday, list[TimeValue]] = {}
    exceptions: list[ScheduleException] = []
    description: str = ""
    # an occupancy schedule that starts each zone's conditioning early, so that it reaches its setpoint
    # at the occupied time (the start computed from the zone's learned warm-up / cool-down rates)
    optimal_start: bool = False


class Override(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A temporary change ("occupied until 22:00 tonight"): ``value`` until ``until`` (epoch s), then the program."""

    value: Value
    until: float
    user: str = ""


Priority = Annotated[int, Meta(ge=1, le=16)]
ScheduleName = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                                   description="letters, digits, '_', '.', '-' (at most 64)")]
Template = Literal["office", "retail", "school", "24x7"]


class Assignment(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Points a schedule commands: ``points`` by id, every point carrying all ``tags``, every point ``under`` a
    node (several given: their union), at ``priority``; ``values`` maps a schedule value to the point's
    (``{"occupied": 21.0}``; a value not in it is written as it is, ``occupied``/``unoccupied`` to a
    binary point as on/off)."""

    points: list[str] = []
    tags: list[str] = []
    under: str | None = None
    priority: Priority = 16
    values: dict[str, Value] = {}


class ScheduleSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A schedule of the scenario: a ``template`` (office, retail, school, 24x7) and/or its own program.

    It is put into ``schedules.db`` when the engine first meets its name;
    after that the operators' edits (``bms schedule set``...) are the
    schedule, and the scenario entry is not read again.
    """

    name: ScheduleName
    template: Template | None = None
    default: Value = None
    weekly: dict[Weekday, list[TimeValue]] = {}
    exceptions: list[ScheduleException] = []
    description: str = ""
    optimal_start: bool = False
    assign: list[Assignment] = []


