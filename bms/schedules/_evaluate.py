"""A schedule's value at any moment, and its transitions, in the site's time zone: pure functions.

BACnet Schedule semantics: each day runs one program -- the program of the
highest-priority exception covering that date, else the weekday's -- and
before a day's first entry the value is the schedule's default (every day
starts at 00:00 with it, unless the program says otherwise at 00:00).

Wall-clock times meet daylight saving time as a building expects: on the
spring-forward day a 02:30 entry (a time that does not exist) takes effect
once, at 03:00; on the fall-back day a 01:30 entry takes effect once, at
its first occurrence.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil.easter import easter

from bms.errors import ConfigError
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
    Value,
    Yearly,
)

UTC = dt.UTC
LOOKAHEAD_DAYS = 400


class Transition(NamedTuple):
    """The value changes to ``value`` at ``at`` (epoch s), wall-clock ``local``; ``source`` says which program."""

    at: float
    local: dt.datetime
    value: Value
    source: str  # "weekly" | "default" | the exception's name


# ------------------------------------------------------------------ dates


@lru_cache(maxsize=256)
def holiday_dates(country: str, subdiv: str | None, year: int) -> dict[dt.date, str]:
    """The public holidays of a country (and subdivision) in a year: date -> name."""
    import holidays as holiday_lib  # loaded when a schedule names a country's holidays (6 MB of calendars)

    try:
        found = holiday_lib.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError as err:
        raise ConfigError(f"holidays: {err}") from None
    return {day: str(name) for day, name in found.items()}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def nth_weekday(year: int, month: int, weekday: str, nth: int) -> dt.date | None:
    """The ``nth`` ``weekday`` of a month (``-1``: the last); None when the month has no such day."""
    wanted = WEEKDAYS.index(weekday)
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if dt.date(year, month, d).weekday() == wanted]
    index = nth - 1 if nth > 0 else nth
    if nth == 0 or not -len(days) <= index < len(days):
        return None
    return dt.date(year, month, days[index])


def covers(rule: DateRule, day: dt.date) -> bool:
    """Whether ``rule`` covers ``day``."""
    if isinstance(rule, OnDate):
        return day == _date(rule.date)
    if isinstance(rule, DateRange):
        return _date(rule.start) <= day <= _date(rule.end)
    if isinstance(rule, Yearly):
        return (day.month, day.day) == (rule.month, rule.day)
    if isinstance(rule, Relative):
        base = day - dt.timedelta(days=rule.offset)
        return base.month == rule.month and nth_weekday(base.year, rule.month, rule.weekday, rule.nth) == base
    if isinstance(rule, Easter):
        base = day - dt.timedelta(days=rule.offset)
        return base == easter(base.year)
    name = holiday_dates(rule.country, rule.subdiv, day.year).get(day)
    return name is not None and (not rule.named or any(n.lower() in name.lower() for n in rule.named))


def check(schedule: Schedule) -> list[str]:
    """Every problem of a schedule, one line each (bad dates, unknown countries, empty relative rules)."""
    problems: list[str] = []
    for i, ex in enumerate(schedule.exceptions):
        where = f"exceptions[{i}] ({ex.name})"
        rule = ex.when
        try:
            if isinstance(rule, OnDate):
                _date(rule.date)
            elif isinstance(rule, DateRange) and _date(rule.start) > _date(rule.end):
                problems.append(f"{where}: the range ends ({rule.end}) before it starts ({rule.start})")
            elif isinstance(rule, Yearly) and rule.day > calendar.monthrange(2024, rule.month)[1]:
                problems.append(f"{where}: month {rule.month} has no day {rule.day}")
            elif isinstance(rule, Relative) and rule.nth == 0:
                problems.append(f"{where}: nth must be 1..5 or -1..-5 (the last), not 0")
            elif isinstance(rule, Holidays):
                holiday_dates(rule.country, rule.subdiv, dt.date.today().year)
        except ConfigError as err:
            problems.append(f"{where}: {err}")
    return problems


# ------------------------------------------------------------------ programs


def program_for(schedule: Schedule, day: dt.date) -> tuple[list[TimeValue], str]:
    """The program ``day`` runs (sorted by time) and where it comes from."""
    winner: ScheduleException | None = None
    for ex in schedule.exceptions:
        if (winner is None or ex.priority < winner.priority) and covers(ex.when, day):
            winner = ex
    if winner is not None:
        return sorted(winner.program, key=lambda tv: tv.seconds), winner.name
    weekday = WEEKDAYS[day.weekday()]
    return sorted(schedule.weekly.get(weekday, []), key=lambda tv: tv.seconds), "weekly"  # type: ignore[call-overload]


def _entries(schedule: Schedule, day: dt.date) -> list[tuple[int, Value, str]]:
    """(seconds after midnight, value, source) of a day, starting with the default at 00:00."""
    program, source = program_for(schedule, day)
    entries: list[tuple[int, Value, str]] = [(0, schedule.default, "default")]
    for tv in program:
        if entries[-1][0] == tv.seconds:
            entries[-1] = (tv.seconds, tv.value, source)
        else:
            entries.append((tv.seconds, tv.value, source))
    return entries


def instant(day: dt.date, seconds: int, zone: dt.tzinfo) -> dt.datetime:
    """When the wall-clock time ``seconds`` after midnight of ``day`` happens (aware, in ``zone``).

    A time the clocks skip takes effect when they land (02:30 on a
    spring-forward day: 03:00); a time that happens twice, the first time.
    """
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
    local = wall.replace(tzinfo=zone, fold=0)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return local
    for minute in range(1, 181):  # in the gap: the first wall-clock minute that exists
        later = (wall + dt.timedelta(minutes=minute)).replace(second=0, tzinfo=zone, fold=0)
        if later.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == later.replace(tzinfo=None):
            return later
    return local


def transitions(schedule: Schedule, start: float, end: float, zone: dt.tzinfo) -> Iterator[Transition]:
    """Every entry taking effect in ``(start, end]`` (epoch s), in order; entries of the same instant collapse."""
    first = dt.datetime.fromtimestamp(start, zone).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(end, zone).date()
    day = first
    while day <= last:
        found: dict[float, Transition] = {}
        for seconds, value, source in _entries(schedule, day):
            at = instant(day, seconds, zone)
            ts = at.timestamp()
            found[ts] = Transition(ts, at, value, source)
        for ts in sorted(found):
            if start < ts <= end:
                yield found[ts]
        day += dt.timedelta(days=1)


def value_at(schedule: Schedule, ts: float, zone: dt.tzinfo, override: Override | None = None) -> tuple[Value, str]:
    """The value at ``ts`` and where it comes from (an override still running wins)."""
    if override is not None and ts < override.until:
        return override.value, "override"
    current: Transition | None = None
    for current in transitions(schedule, ts - 2 * 86_400, ts, zone):  # noqa: B007 - the last one counts
        pass
    if current is None:
        return schedule.default, "default"
    return current.value, current.source


def next_transition(schedule: Schedule, after: float, zone: dt.tzinfo,
                    override: Override | None = None) -> Transition | None:
    """The first moment after ``after`` where the value may change (an override's end counts)."""
    limit = after + LOOKAHEAD_DAYS * 86_400
    end_of_override = override.until if override is not None and override.until > after else None
    for t in transitions(schedule, after, limit, zone):
        if end_of_override is not None and end_of_override <= t.at:
            break
        if end_of_override is not None:
            continue  # hidden by the override
        return t
    if end_of_override is not None:
        value, source = value_at(schedule, end_of_override, zone)
        return Transition(end_of_override, dt.datetime.fromtimestamp(end_of_override, zone), value, source)
    return None


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}") from None
