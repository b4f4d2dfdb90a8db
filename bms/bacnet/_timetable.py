"""BACnet Schedule and Calendar datatypes <-> bms schedules: pure conversions, no I/O.

bacpypes3 0.0.110 has every datatype these objects need (BACnetDailySchedule,
BACnetSpecialEvent, BACnetCalendarEntry, BACnetWeekNDay, BACnetDateRange,
BACnetTimeValue with its ABSTRACT-SYNTAX value as ``AnyAtomic``) and encodes
them as ASHRAE 135 says (a test checks a special event octet by octet); what
it lacks is the mapping to bms, which is here.

Date kinds (a Calendar object's date-list, a special event's calendar entry):

=========================================  ======================================
BACnet                                     bms (:data:`~bms.schedules.DateRule`)
=========================================  ======================================
date, every field given                    :class:`~bms.schedules.OnDate`
date, any year, any weekday (``*-12-25``)  :class:`~bms.schedules.Yearly`
dateRange, both ends given                 :class:`~bms.schedules.DateRange`
weekNDay: a month, week 1..5, a weekday    :class:`~bms.schedules.Relative` nth 1..5
weekNDay: a month, week 6..9, a weekday    :class:`~bms.schedules.Relative` nth -1..-4
calendar reference                         the calendar's rules (see :mod:`._schedules`)
=========================================  ======================================

What cannot map, refused with one line naming it: BACnet date patterns bms
has no rule for (odd or even months, the last day of any month, odd or even
days, any month, a given weekday of every week, a date with a given weekday,
open or partly wild date ranges, a weekNDay with any week or any weekday or
any month), and, the other way, bms rules BACnet cannot express: Easter
(``easter``), public holidays (``holidays``: computed by a library, no date
pattern says them), a relative rule with an ``offset`` or ``nth = -5``.

Times: a BACnet Time is hours, minutes, seconds and hundredths; bms keeps
``HH:MM`` (``HH:MM:SS`` when the seconds are not 0); hundredths are dropped,
a wildcard time refused. A time value's Null stays None: in BACnet it
relinquishes (the day goes back to the schedule default, an exception back
to lower priorities); in bms None is the value of that period.

Values: a schedule's values share one datatype, that of its
schedule-default. Enumerated values of a schedule that writes a binary
object read as bools (and ``occupied``/``unoccupied``, ``on``/``off``,
``active``/``inactive`` write as 1/0); Real as float, Unsigned, Integer and
other Enumerated as int, Boolean as bool, CharacterString as str.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bacpypes3.basetypes import CalendarEntry, DailySchedule, DateRange, SpecialEvent, SpecialEventPeriod, TimeValue, WeekNDay
from bacpypes3.constructeddata import AnyAtomic
from bacpypes3.primitivedata import (
    Boolean,
    CharacterString,
    Date,
    Double,
    Enumerated,
    Integer,
    Null,
    ObjectIdentifier,
    Real,
    Time,
    Unsigned,
)

from bms.bacnet._codec import single
from bms.errors import CodecError, WriteRefused
from bms.schedules import WEEKDAYS, DateRule, Easter, Holidays, OnDate, Relative, ScheduleException, Yearly
from bms.schedules import DateRange as BmsDateRange
from bms.schedules import TimeValue as BmsTimeValue

ANY = 255
_WEEKS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: -1, 7: -2, 8: -3, 9: -4}  # BACnet week-of-month -> nth
_NTH = {nth: week for week, nth in _WEEKS.items()}
_TRUE = frozenset({"occupied", "active", "on", "true", "1", "yes"})
_FALSE = frozenset({"unoccupied", "inactive", "off", "false", "0", "no"})
_PATTERNS = {13: "odd months", 14: "even months", 32: "the last day of the month", 33: "odd days", 34: "even days"}


# ------------------------------------------------------------------ dates


def _specific(raw: Any) -> dt.date | None:
    """A Date with no wildcard as a date (None when any field is a pattern)."""
    year, month, day, _ = (int(x) for x in raw)
    if ANY in (year, month, day) or month > 12 or day > 31:
        return None
    try:
        return dt.date(year + 1900, month, day)
    except ValueError:
        return None


def _pattern(raw: Any) -> str:
    year, month, day, dow = (int(x) for x in raw)

    def part(value: int, width: int) -> str:
        return "*" if value == ANY else _PATTERNS.get(value, str(value).zfill(width))

    text = f"{part(year + 1900 if year != ANY else ANY, 4)}-{part(month, 2)}-{part(day, 2)}"
    return text + (f" on {WEEKDAYS[dow - 1]}" if 1 <= dow <= 7 else "")


def bacnet_date(day: dt.date) -> Date:
    """A specific BACnet Date (the weekday filled in)."""
    return Date((day.year - 1900, day.month, day.day, day.isoweekday()))


def date_rule(entry: Any) -> DateRule:
    """A BACnetCalendarEntry as a bms date rule; CodecError naming what cannot map."""
    if entry.date is not None:
        raw = entry.date
        found = _specific(raw)
        if found is not None and int(raw[3]) in (ANY, found.isoweekday()):
            return OnDate(date=found.isoformat())
        year, month, day, dow = (int(x) for x in raw)
        if year == ANY and dow == ANY and 1 <= month <= 12 and 1 <= day <= 31:
            return Yearly(month=month, day=day)
        raise CodecError(f"date pattern {_pattern(raw)} has no bms date rule")
    if entry.dateRange is not None:
        start, end = _specific(entry.dateRange.startDate), _specific(entry.dateRange.endDate)
        if start is None or end is None:
            raise CodecError(
                f"date range {_pattern(entry.dateRange.startDate)} .. {_pattern(entry.dateRange.endDate)} "
                "has no bms date rule (both ends must be dates)")
        return BmsDateRange(start=start.isoformat(), end=end.isoformat())
    if entry.weekNDay is not None:
        raw = bytes(entry.weekNDay)
        if len(raw) != 3:
            raise CodecError(f"weekNDay of {len(raw)} octets (3 expected)")
        month, week, dow = raw
        if 1 <= month <= 12 and week in _WEEKS and 1 <= dow <= 7:
            return Relative(month=month, weekday=WEEKDAYS[dow - 1], nth=_WEEKS[week])  # type: ignore[arg-type]
        what = (f"month {'*' if month == ANY else _PATTERNS.get(month, month)}, "
                f"week {'*' if week == ANY else week}, weekday {'*' if dow == ANY else dow}")
        raise CodecError(f"weekNDay ({what}) has no bms date rule")
    raise CodecError("calendar entry with no date, dateRange nor weekNDay")


def calendar_entry(rule: DateRule, where: str) -> CalendarEntry:
    """A bms date rule as a BACnetCalendarEntry; WriteRefused (``where``) for rules BACnet cannot say."""
    if isinstance(rule, OnDate):
        return CalendarEntry(date=bacnet_date(dt.date.fromisoformat(rule.date)))
    if isinstance(rule, BmsDateRange):
        return CalendarEntry(dateRange=DateRange(startDate=bacnet_date(dt.date.fromisoformat(rule.start)),
                                                 endDate=bacnet_date(dt.date.fromisoformat(rule.end))))
    if isinstance(rule, Yearly):
        return CalendarEntry(date=Date((ANY, rule.month, rule.day, ANY)))
    if isinstance(rule, Relative):
        if rule.offset:
            raise WriteRefused(where, f"a relative date with an offset ({rule.offset:+d} days) has no BACnet date pattern")
        if rule.nth not in _NTH:
            raise WriteRefused(where, f"the {rule.nth} {rule.weekday} of a month has no BACnet weekNDay")
        return CalendarEntry(weekNDay=WeekNDay(bytes([rule.month, _NTH[rule.nth], WEEKDAYS.index(rule.weekday) + 1])))
    if isinstance(rule, Easter):
        raise WriteRefused(where, "Easter-relative dates have no BACnet date pattern")
    assert isinstance(rule, Holidays)
    raise WriteRefused(where, f"public holidays ({rule.country}) have no BACnet date pattern: list their dates")


def effective_dates(raw: Any) -> tuple[str | None, str | None]:
    """An effective-period as (from, to); an end with a wildcard is open (None)."""
    if raw is None:
        return None, None
    start, end = _specific(raw.startDate), _specific(raw.endDate)
    return (start.isoformat() if start else None), (end.isoformat() if end else None)


# ------------------------------------------------------------------ times and values


def clock_time(raw: Any) -> str:
    """A BACnet Time as ``HH:MM`` (``HH:MM:SS``); CodecError for a wildcard."""
    hour, minute, second, _ = (int(x) for x in raw)
    if ANY in (hour, minute, second) or hour > 23 or minute > 59 or second > 59:
        raise CodecError(f"time {hour}:{minute}:{second} is not a time of day (a wildcard?)")
    return f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")


def bacnet_time(text: str) -> Time:
    parts = [int(p) for p in text.split(":")]
    return Time((parts[0], parts[1], parts[2] if len(parts) > 2 else 0, 0))


def atomic(raw: Any) -> Any:
    """The primitive inside an AnyAtomic (or the primitive itself)."""
    if isinstance(raw, AnyAtomic):
        try:
            return raw.get_value()
        except (TypeError, ValueError, AttributeError) as err:
            raise CodecError(f"a schedule value that is not one primitive: {err}") from None
    return raw


def schedule_value(raw: Any, binary: bool) -> Any:
    """A schedule's value as bms keeps it (``binary``: the schedule writes a binary object)."""
    value = atomic(raw)
    if value is None or isinstance(value, Null):
        return None
    if isinstance(value, Boolean):
        return bool(value)
    if isinstance(value, Enumerated):
        return int(value) == 1 if binary else int(value)
    if isinstance(value, Real):
        return single(float(value))
    if isinstance(value, (Double, float)):
        return float(value)
    if isinstance(value, (Unsigned, Integer, int)):
        return int(value)
    if isinstance(value, (CharacterString, str)):
        return str(value)
    raise CodecError(f"a schedule value of type {type(value).__name__} has no bms value")


def primitive(value: Any, like: Any, where: str) -> Any:
    """``value`` as the primitive of the schedule's datatype (that of ``like``, its current schedule-default)."""
    if value is None:
        return Null(())
    kind = type(atomic(like)) if like is not None else None
    if kind is None or kind is Null:
        kind = {bool: Enumerated, float: Real, int: Unsigned, str: CharacterString}.get(type(value))
    if kind is None:
        raise WriteRefused(where, f"{value!r} is not a schedule value")
    try:
        if issubclass(kind, Enumerated):
            return Enumerated(_enumerated(value))
        if issubclass(kind, Boolean):
            return Boolean(_enumerated(value) == 1)
        if issubclass(kind, (Real, Double)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError("a number expected")
            return kind(float(value))
        if issubclass(kind, (Unsigned, Integer)):
            if isinstance(value, bool) or (not isinstance(value, int) and not float(value).is_integer()):
                raise ValueError("a whole number expected")
            return kind(int(value))
        if issubclass(kind, CharacterString):
            return CharacterString(str(value))
    except (ValueError, TypeError) as err:
        raise WriteRefused(where, f"{value!r} is not a value of this schedule ({kind.__name__}): {err}") from None
    raise WriteRefused(where, f"schedules of {kind.__name__} values are not supported")


def _enumerated(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return 1 if value.strip().lower() in _TRUE else 0
    raise ValueError("true/false, occupied/unoccupied or a state number expected")


def time_values(raw: Any, binary: bool) -> list[BmsTimeValue]:
    return [BmsTimeValue(at=clock_time(tv.time), value=schedule_value(tv.value, binary)) for tv in raw or ()]


def bacnet_time_values(program: list[BmsTimeValue], like: Any, where: str) -> list[TimeValue]:
    ordered = sorted(program, key=lambda tv: tv.seconds)
    return [TimeValue(time=bacnet_time(tv.at), value=AnyAtomic(primitive(tv.value, like, where))) for tv in ordered]


# ------------------------------------------------------------------ weekly and exceptions


def weekly_program(raw: Any, binary: bool) -> dict[str, list[BmsTimeValue]]:
    """A weekly-schedule (7 daily schedules, Monday first) as bms's weekly dict (empty days left out)."""
    days = list(raw or ())
    if days and len(days) != 7:
        raise CodecError(f"weekly-schedule of {len(days)} days (7 expected)")
    return {WEEKDAYS[i]: time_values(day.daySchedule, binary) for i, day in enumerate(days) if day.daySchedule}


def bacnet_weekly(weekly: dict[str, list[BmsTimeValue]], like: Any, where: str) -> list[DailySchedule]:
    return [DailySchedule(daySchedule=bacnet_time_values(weekly.get(day, []), like, f"{where} {day}")) for day in WEEKDAYS]


def special_event_period(event: Any) -> tuple[CalendarEntry | None, str | None]:
    """(calendar entry, None) or (None, the referenced calendar ``"calendar,1"``)."""
    period = event.period
    if period.calendarEntry is not None:
        return period.calendarEntry, None
    ref = period.calendarReference
    if ref is None:
        raise CodecError("special event with no period")
    return None, f"{ref[0]},{int(ref[1])}"


def exception_from(event: Any, name: str, rule: DateRule, binary: bool) -> ScheduleException:
    priority = int(event.eventPriority)
    if not 1 <= priority <= 16:
        raise CodecError(f"special event priority {priority} (1..16 expected)")
    return ScheduleException(name=name, when=rule, program=time_values(event.listOfTimeValues, binary),
                             priority=priority)


def special_event(exception: ScheduleException, like: Any, where: str, calendar: str | None = None) -> SpecialEvent:
    """A bms exception as a BACnetSpecialEvent (``calendar``: by reference to that Calendar object)."""
    here = f"{where} exception {exception.name!r}"
    if calendar is not None:
        period = SpecialEventPeriod(calendarReference=ObjectIdentifier(calendar))
    else:
        period = SpecialEventPeriod(calendarEntry=calendar_entry(exception.when, here))
    return SpecialEvent(period=period, listOfTimeValues=bacnet_time_values(exception.program, like, here),
                        eventPriority=exception.priority)
