"""Schedule evaluation as tables: weekdays, each exception kind and their priority, holidays, DST days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bms.errors import ConfigError
from bms.schedules import (
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
    check,
    covers,
    next_transition,
    nth_weekday,
    transitions,
    value_at,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WORKDAY = [TimeValue("07:00", "occupied"), TimeValue("18:00", "unoccupied")]
OFFICE = Schedule(name="office", default="unoccupied",
                  weekly={d: WORKDAY for d in ("mon", "tue", "wed", "thu", "fri")})  # type: ignore[misc]


def at(zone: ZoneInfo, *parts: int) -> float:
    return dt.datetime(*parts, tzinfo=zone).timestamp()  # type: ignore[misc]


@pytest.mark.parametrize(("when", "value", "source"), [
    ((2026, 12, 7, 6, 59), "unoccupied", "default"),  # a Monday before 07:00
    ((2026, 12, 7, 7, 0), "occupied", "weekly"),
    ((2026, 12, 7, 17, 59), "occupied", "weekly"),
    ((2026, 12, 7, 18, 0), "unoccupied", "weekly"),
    ((2026, 12, 5, 12, 0), "unoccupied", "default"),  # Saturday: no program, the default
])
def test_weekday_transitions(when: tuple[int, ...], value: str, source: str) -> None:
    assert value_at(OFFICE, at(LONDON, *when), LONDON) == (value, source)


@pytest.mark.parametrize(("rule", "day", "covered"), [
    (OnDate(date="2026-12-24"), dt.date(2026, 12, 24), True),
    (OnDate(date="2026-12-24"), dt.date(2027, 12, 24), False),
    (DateRange(start="2026-12-24", end="2027-01-02"), dt.date(2026, 12, 31), True),
    (DateRange(start="2026-12-24", end="2027-01-02"), dt.date(2027, 1, 3), False),
    (Yearly(month=12, day=25), dt.date(2031, 12, 25), True),
    (Relative(month=11, weekday="thu", nth=4), dt.date(2026, 11, 26), True),  # Thanksgiving 2026
    (Relative(month=11, weekday="thu", nth=4), dt.date(2026, 11, 19), False),
    (Relative(month=11, weekday="thu", nth=4, offset=1), dt.date(2026, 11, 27), True),  # the Friday after
    (Relative(month=5, weekday="mon", nth=-1), dt.date(2026, 5, 25), True),  # last Monday of May
    (Relative(month=5, weekday="mon", nth=-1), dt.date(2026, 5, 18), False),
    (Easter(offset=-2), dt.date(2026, 4, 3), True),  # Good Friday 2026 (Easter is 5 April)
    (Easter(), dt.date(2027, 3, 28), True),
    (Easter(offset=1), dt.date(2026, 4, 6), True),  # Easter Monday
    (Holidays(country="GB", subdiv="ENG"), dt.date(2026, 12, 28), True),  # Boxing Day substitute
    (Holidays(country="GB", subdiv="ENG"), dt.date(2026, 12, 29), False),
    (Holidays(country="US", named=["Thanksgiving"]), dt.date(2026, 11, 26), True),
    (Holidays(country="US", named=["Thanksgiving"]), dt.date(2026, 12, 25), False),
    (Holidays(country="DE", subdiv="BY"), dt.date(2026, 1, 6), True),  # Epiphany in Bavaria only
    (Holidays(country="DE", subdiv="BE"), dt.date(2026, 1, 6), False),
])
def test_each_kind_of_exception(rule: DateRule, day: dt.date, covered: bool) -> None:
    assert covers(rule, day) is covered


def test_the_highest_priority_exception_covering_a_date_wins() -> None:
    schedule = Schedule(name="s", default="unoccupied", weekly=OFFICE.weekly, exceptions=[
        ScheduleException(name="holidays", when=Holidays(country="GB", subdiv="ENG"), priority=10),
        ScheduleException(name="open day", when=OnDate(date="2026-12-28"), priority=5,
                          program=[TimeValue("10:00", "occupied"), TimeValue("14:00", "unoccupied")]),
        ScheduleException(name="christmas week", when=DateRange(start="2026-12-21", end="2026-12-31"), priority=12,
                          program=[TimeValue("09:00", "occupied"), TimeValue("12:00", "unoccupied")]),
    ])
    assert value_at(schedule, at(LONDON, 2026, 12, 28, 11, 0), LONDON) == ("occupied", "open day")  # 5 beats 10
    assert value_at(schedule, at(LONDON, 2026, 12, 25, 11, 0), LONDON) == ("unoccupied", "default")  # holiday, 10
    assert value_at(schedule, at(LONDON, 2026, 12, 22, 10, 0), LONDON) == ("occupied", "christmas week")
    assert value_at(schedule, at(LONDON, 2026, 12, 22, 13, 0), LONDON) == ("unoccupied", "christmas week")


@pytest.mark.parametrize(("zone", "day", "entry", "fires_at"), [
    (LONDON, dt.date(2026, 3, 29), "01:30", dt.datetime(2026, 3, 29, 2, 0)),  # UK spring forward: 01:00 -> 02:00
    (NEW_YORK, dt.date(2026, 3, 8), "02:30", dt.datetime(2026, 3, 8, 3, 0)),  # US spring forward: 02:00 -> 03:00
])
def test_an_entry_the_clocks_skip_fires_once_when_they_land(zone: ZoneInfo, day: dt.date, entry: str,
                                                             fires_at: dt.datetime) -> None:
    schedule = Schedule(name="s", default=0, weekly={  # type: ignore[misc]
        d: [TimeValue(entry, 1), TimeValue("05:00", 0)] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    start = dt.datetime.combine(day, dt.time(0, 30), zone).timestamp()
    found = [t for t in transitions(schedule, start, start + 6 * 3600, zone) if t.value == 1]
    assert len(found) == 1
    assert found[0].local.replace(tzinfo=None) == fires_at
    assert found[0].at == fires_at.replace(tzinfo=zone).timestamp()


@pytest.mark.parametrize(("zone", "day"), [(LONDON, dt.date(2026, 10, 25)), (NEW_YORK, dt.date(2026, 11, 1))])
def test_an_entry_in_the_repeated_hour_fires_once(zone: ZoneInfo, day: dt.date) -> None:
    schedule = Schedule(name="s", default=0, weekly={  # type: ignore[misc]
        d: [TimeValue("01:30", 1), TimeValue("04:00", 0)] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    start = dt.datetime.combine(day, dt.time(0, 0), zone).timestamp()
    found = [t for t in transitions(schedule, start, start + 8 * 3600, zone) if t.value == 1]
    assert len(found) == 1 and found[0].local.fold == 0  # the first 01:30
    later = found[0].at + 3600  # the second 01:30: still 1, no second transition
    assert value_at(schedule, later, zone)[0] == 1


def test_next_transition_and_an_override_that_ends_by_itself() -> None:
    monday_8 = at(LONDON, 2026, 12, 7, 8, 0)
    nxt = next_transition(OFFICE, monday_8, LONDON)
    assert nxt is not None and nxt.value == "unoccupied" and nxt.at == at(LONDON, 2026, 12, 7, 18, 0)
    late = Override(value="occupied", until=at(LONDON, 2026, 12, 7, 22, 0), user="olivia")
    assert value_at(OFFICE, at(LONDON, 2026, 12, 7, 19, 0), LONDON, late) == ("occupied", "override")
    ends = next_transition(OFFICE, at(LONDON, 2026, 12, 7, 19, 0), LONDON, late)
    assert ends is not None and (ends.at, ends.value) == (late.until, "unoccupied")
    friday_night = at(LONDON, 2026, 12, 11, 19, 0)
    monday = next_transition(OFFICE, friday_night, LONDON)
    assert monday is not None and monday.local.replace(tzinfo=None) == dt.datetime(2026, 12, 12, 0, 0)
    # midnight restates the default: the next change of value is Monday 07:00
    changes = [t for t in transitions(OFFICE, friday_night, friday_night + 4 * 86400, LONDON) if t.value == "occupied"]
    assert changes[0].local.replace(tzinfo=None) == dt.datetime(2026, 12, 14, 7, 0)


def test_nth_weekday() -> None:
    assert nth_weekday(2026, 11, "thu", 4) == dt.date(2026, 11, 26)
    assert nth_weekday(2026, 5, "mon", -1) == dt.date(2026, 5, 25)
    assert nth_weekday(2026, 2, "mon", 5) is None


def test_problems_are_named() -> None:
    bad = Schedule(name="s", exceptions=[
        ScheduleException(name="a", when=DateRange(start="2026-12-31", end="2026-12-01")),
        ScheduleException(name="b", when=Yearly(month=2, day=30)),
        ScheduleException(name="c", when=Relative(month=1, weekday="mon", nth=0)),
        ScheduleException(name="d", when=Holidays(country="XX")),
        ScheduleException(name="e", when=OnDate(date="2026-02-30")),
    ])
    problems = check(bad)
    assert len(problems) == 5
    assert problems[0] == "exceptions[0] (a): the range ends (2026-12-01) before it starts (2026-12-31)"
    assert "month 2 has no day 30" in problems[1] and "not 0" in problems[2]
    assert "holidays" in problems[3] and "XX" in problems[3]
    assert "'2026-02-30' is not a date" in problems[4]
    with pytest.raises(ConfigError):
        covers(Holidays(country="XX"), dt.date(2026, 1, 1))
