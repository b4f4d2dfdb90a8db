"""BACnet Schedule and Calendar datatypes <-> bms schedules: the conversion tables."""

from __future__ import annotations

from typing import Any

import pytest
from bacpypes3 import basetypes as bt
from bacpypes3 import constructeddata as cd
from bacpypes3 import primitivedata as pd

from bms.bacnet._timetable import (
    bacnet_time,
    calendar_entry,
    clock_time,
    date_rule,
    exception_from,
    primitive,
    schedule_value,
    special_event,
    special_event_period,
)
from bms.errors import CodecError, WriteRefused
from bms.schedules import DateRange as Range
from bms.schedules import Easter, Holidays, OnDate, Relative, ScheduleException, Yearly
from bms.schedules import TimeValue as Tv

W = 255
ROUND_TRIPS: list[tuple[Any, Any]] = [
    (bt.CalendarEntry(date=pd.Date((126, 12, 25, 5))), OnDate(date="2026-12-25")),
    (bt.CalendarEntry(date=pd.Date((W, 12, 25, W))), Yearly(month=12, day=25)),
    (bt.CalendarEntry(dateRange=bt.DateRange(startDate=pd.Date((126, 12, 24, 4)), endDate=pd.Date((127, 1, 2, 6)))),
     Range(start="2026-12-24", end="2027-01-02")),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([11, 4, 4]))), Relative(month=11, weekday="thu", nth=4)),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([9, 1, 1]))), Relative(month=9, weekday="mon", nth=1)),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([10, 5, 5]))), Relative(month=10, weekday="fri", nth=5)),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([5, 6, 1]))), Relative(month=5, weekday="mon", nth=-1)),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([3, 9, 7]))), Relative(month=3, weekday="sun", nth=-4)),
]


def _entry(entry: Any) -> tuple[Any, ...]:
    if entry.date is not None:
        return ("date", tuple(entry.date))
    if entry.dateRange is not None:
        return ("range", tuple(entry.dateRange.startDate), tuple(entry.dateRange.endDate))
    return ("weekNDay", bytes(entry.weekNDay))


@pytest.mark.parametrize(("entry", "rule"), ROUND_TRIPS)
def test_each_bacnet_date_kind_maps_to_its_date_rule_and_back(entry: Any, rule: Any) -> None:
    assert date_rule(entry) == rule
    assert _entry(calendar_entry(rule, "ahu1 calendar,1")) == _entry(entry)


@pytest.mark.parametrize(("entry", "says"), [
    (bt.CalendarEntry(date=pd.Date((W, 13, 1, W))), "odd months"),
    (bt.CalendarEntry(date=pd.Date((W, W, 32, W))), "the last day of the month"),
    (bt.CalendarEntry(date=pd.Date((W, W, W, 1))), "on mon"),
    (bt.CalendarEntry(date=pd.Date((W, 12, 25, 5))), "*-12-25 on fri"),
    (bt.CalendarEntry(dateRange=bt.DateRange(startDate=pd.Date((126, 1, 1, 4)), endDate=pd.Date((W, W, W, W)))),
     "both ends must be dates"),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([W, 1, 1]))), "month *"),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([11, W, 4]))), "week *"),
    (bt.CalendarEntry(weekNDay=bt.WeekNDay(bytes([11, 4, W]))), "weekday *"),
])
def test_bacnet_patterns_bms_has_no_rule_for_are_refused_in_one_line(entry: Any, says: str) -> None:
    with pytest.raises(CodecError, match="has no bms date rule") as err:
        date_rule(entry)
    assert says in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("rule", "says"), [
    (Easter(offset=-2), "Easter"),
    (Holidays(country="GB", subdiv="ENG"), "public holidays (GB)"),
    (Relative(month=11, weekday="thu", nth=4, offset=1), "offset (+1 days)"),
    (Relative(month=5, weekday="mon", nth=-5), "-5 mon"),
])
def test_bms_rules_bacnet_cannot_say_are_refused_naming_the_object(rule: Any, says: str) -> None:
    with pytest.raises(WriteRefused, match="ahu1 schedule,1") as err:
        calendar_entry(rule, "ahu1 schedule,1")
    assert says in str(err.value)


@pytest.mark.parametrize(("raw", "text"), [((7, 0, 0, 0), "07:00"), ((18, 30, 15, 0), "18:30:15"),
                                           ((23, 59, 0, 99), "23:59")])
def test_time_values_times(raw: tuple[int, int, int, int], text: str) -> None:
    assert clock_time(pd.Time(raw)) == text
    assert tuple(bacnet_time(text))[:3] == raw[:3]


def test_a_wildcard_time_is_refused() -> None:
    with pytest.raises(CodecError, match="not a time of day"):
        clock_time(pd.Time((W, 0, 0, 0)))


@pytest.mark.parametrize(("raw", "binary", "value"), [
    (pd.Enumerated(1), True, True), (pd.Enumerated(0), True, False), (pd.Enumerated(3), False, 3),
    (pd.Real(21.5), False, 21.5), (pd.Real(33.3), False, 33.3), (pd.Unsigned(2), False, 2), (pd.Null(()), True, None),
    (pd.CharacterString("occupied"), False, "occupied"),
], ids=repr)
def test_schedule_values_read_as_bms_values(raw: Any, binary: bool, value: Any) -> None:
    assert schedule_value(cd.AnyAtomic(raw), binary) == value


@pytest.mark.parametrize(("value", "like", "wanted"), [
    (True, pd.Enumerated(0), pd.Enumerated(1)), ("occupied", pd.Enumerated(0), pd.Enumerated(1)),
    ("unoccupied", pd.Enumerated(1), pd.Enumerated(0)), (21, pd.Real(0.0), pd.Real(21.0)), (None, pd.Real(0.0), pd.Null(())),
    (2, pd.Unsigned(1), pd.Unsigned(2)),
], ids=repr)
def test_bms_values_written_in_the_schedules_datatype(value: Any, like: Any, wanted: Any) -> None:
    got = primitive(value, cd.AnyAtomic(like), "ahu1 schedule,1")
    assert type(got) is type(wanted) and got == wanted


def test_a_value_of_another_datatype_is_refused() -> None:
    with pytest.raises(WriteRefused, match="'warm' is not a value of this schedule"):
        primitive("warm", cd.AnyAtomic(pd.Real(0.0)), "ahu1 schedule,1")


def test_a_special_event_keeps_its_period_time_values_and_priority() -> None:
    ex = ScheduleException(name="exception 1", when=Yearly(month=12, day=25),
                           program=[Tv(at="08:00", value=True), Tv(at="12:00", value=None)], priority=3)
    event = special_event(ex, cd.AnyAtomic(pd.Enumerated(0)), "ahu1 schedule,1")
    entry, calendar = special_event_period(event)
    assert calendar is None and entry is not None
    assert exception_from(event, "exception 1", date_rule(entry), binary=True) == ex


def test_a_calendar_reference_is_written_as_one() -> None:
    ex = ScheduleException(name="Holidays (calendar,1)", when=OnDate(date="2026-01-01"),
                           program=[Tv(at="00:00", value=False)], priority=11)
    event = special_event(ex, cd.AnyAtomic(pd.Enumerated(0)), "ahu1 schedule,1", calendar="calendar,1")
    assert special_event_period(event) == (None, "calendar,1")


def test_a_special_event_is_encoded_as_ashrae_135_says() -> None:
    """Octets written by hand from clause 20.2 (bacpypes3 has the datatype; this checks its encoding)."""
    ex = ScheduleException(name="x", when=Yearly(month=12, day=25), program=[Tv(at="00:00", value=False)],
                           priority=10)
    octets = bytes(special_event(ex, cd.AnyAtomic(pd.Enumerated(0)), "w").encode().encode().pduData)
    assert octets.hex() == (
        "0e" "0cff0c19ff" "0f"  # period: [0] calendarEntry { [0] date *-12-25 any weekday }
        "2e" "b400000000" "9100" "2f"  # [2] listOfTimeValues { Time 00:00:00.00, Enumerated 0 }
        "390a"  # [3] eventPriority 10
    )


def test_time_values_are_written_in_time_order() -> None:
    program = [Tv(at="18:00", value=False), Tv(at="07:00", value=True)]
    ex = ScheduleException(name="x", when=OnDate(date="2026-12-24"), program=program)
    event = special_event(ex, cd.AnyAtomic(pd.Enumerated(0)), "w")
    assert [next(iter(tv.time)) for tv in event.listOfTimeValues] == [7, 18]
    assert isinstance(event.listOfTimeValues[0], bt.TimeValue)
