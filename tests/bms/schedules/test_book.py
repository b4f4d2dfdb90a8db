"""The engine's plain state: templates, assignments resolved to points, what is due when, what to write."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bms.errors import ConfigError
from bms.schedules import (
    Assignment,
    Override,
    PointRef,
    Schedule,
    ScheduleBook,
    TimeValue,
    occupancy,
    point_value,
    resolve,
    template,
)

LONDON = ZoneInfo("Europe/London")
POINTS = {
    "ahu1/fan_cmd": PointRef("ahu1/fan_cmd", frozenset({"fan", "cmd"}), ("ahu1", "plant", "demo"), True, "bool"),
    "ahu1/sat": PointRef("ahu1/sat", frozenset({"air", "temp", "sensor"}), ("ahu1", "plant", "demo"), False, "number"),
    "vav101/zone_sp": PointRef("vav101/zone_sp", frozenset({"zone", "air", "temp", "sp"}),
                               ("vav101", "zone-101", "floor1", "demo"), True, "number"),
    "vav102/zone_sp": PointRef("vav102/zone_sp", frozenset({"zone", "air", "temp", "sp"}),
                               ("vav102", "zone-102", "floor1", "demo"), True, "number"),
}


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp()


@pytest.mark.parametrize(("kind", "monday", "saturday", "sunday"), [
    ("office", [("07:00", "occupied"), ("18:00", "unoccupied")], [], []),
    ("retail", [("08:30", "occupied"), ("21:00", "unoccupied")], [("08:30", "occupied"), ("21:00", "unoccupied")],
     [("10:30", "occupied"), ("17:00", "unoccupied")]),
    ("school", [("07:30", "occupied"), ("16:30", "unoccupied")], [], []),
    ("24x7", [("00:00", "occupied")], [("00:00", "occupied")], [("00:00", "occupied")]),
])
def test_templates_give_the_usual_hours(kind: str, monday: list[tuple[str, str]], saturday: list[tuple[str, str]],
                                        sunday: list[tuple[str, str]]) -> None:
    made = template(kind, "s")
    for day, expected in (("mon", monday), ("sat", saturday), ("sun", sunday)):
        assert [(tv.at, tv.value) for tv in made.weekly.get(day, [])] == expected  # type: ignore[call-overload]
    assert occupancy(made)
    with pytest.raises(ConfigError, match="unknown template 'hotel'"):
        template("hotel", "s")


def test_assignments_resolve_ids_tags_and_subtrees_to_writable_points() -> None:
    refs, problems = resolve(Assignment(points=["ahu1/fan_cmd", "ahu1/sat", "nope"]), POINTS)
    assert [r.point_id for r in refs] == ["ahu1/fan_cmd"]
    assert problems == ["point 'ahu1/sat' is not writable", "unknown point 'nope'"]
    refs, _ = resolve(Assignment(tags=["zone", "sp"]), POINTS)
    assert sorted(r.point_id for r in refs) == ["vav101/zone_sp", "vav102/zone_sp"]
    refs, _ = resolve(Assignment(tags=["sp"], under="zone-102"), POINTS)
    assert [r.point_id for r in refs] == ["vav102/zone_sp"]
    assert resolve(Assignment(tags=["boiler"]), POINTS)[1] == ["no writable point matches tag boiler"]


@pytest.mark.parametrize(("value", "values", "kind", "written"), [
    ("occupied", {"occupied": 21.0, "unoccupied": 16.0}, "number", 21.0),
    ("unoccupied", {"occupied": 21.0, "unoccupied": 16.0}, "number", 16.0),
    ("occupied", {}, "bool", True),
    ("unoccupied", {}, "bool", False),
    (True, {"true": 3}, "enum", 3),
    (19.5, {}, "number", 19.5),
])
def test_a_schedule_value_is_mapped_to_the_points_value(value: object, values: dict[str, object], kind: str,
                                                         written: object) -> None:
    assert point_value(value, values, kind) == written  # type: ignore[arg-type]


def office_book() -> ScheduleBook:
    book = ScheduleBook(LONDON)
    book.put(template("office", "office"))
    book.assign("office", [Assignment(points=["ahu1/fan_cmd"]),
                           Assignment(tags=["zone", "sp"], priority=15, values={"occupied": 21.0, "unoccupied": 16.0})],
                POINTS)
    return book


def test_at_start_every_point_gets_its_value_now_then_only_changes_at_transitions() -> None:
    book = office_book()
    monday_noon = at("2026-12-21T12:00")
    first = book.plan(monday_noon, force=["office"])
    assert sorted((w.point_id, w.value, w.priority) for w in first) == [
        ("ahu1/fan_cmd", True, 16), ("vav101/zone_sp", 21.0, 15), ("vav102/zone_sp", 21.0, 15)]
    for w in first:
        book.done(w)
    assert book.plan(monday_noon + 60) == []  # nothing changed: nothing to write
    assert book.due(monday_noon) == at("2026-12-21T18:00")
    evening = book.plan(at("2026-12-21T18:00"))
    assert sorted((w.point_id, w.value, w.source) for w in evening) == [
        ("ahu1/fan_cmd", False, "weekly"), ("vav101/zone_sp", 16.0, "weekly"), ("vav102/zone_sp", 16.0, "weekly")]
    for w in evening:
        book.done(w)
    assert book.due(at("2026-12-21T18:00")) == at("2026-12-22T07:00")
    assert book.plan(at("2026-12-21T18:00"), force=["office"]) != []  # a change writes everything again


def test_an_override_runs_until_its_end_and_the_program_takes_over_by_itself() -> None:
    book = office_book()
    evening = at("2026-12-21T19:00")
    for w in book.plan(evening, force=["office"]):
        book.done(w)
    book.overrides["office"] = Override(value="occupied", until=at("2026-12-21T22:00"), user="olga")
    writes = book.plan(evening)
    assert {w.value for w in writes} == {True, 21.0} and {w.source for w in writes} == {"override"}
    for w in writes:
        book.done(w)
    assert book.due(evening) == at("2026-12-21T22:00")
    assert book.summary("office", evening).override_until == at("2026-12-21T22:00")
    assert book.expire(at("2026-12-21T22:00")) == ["office"]
    back = book.plan(at("2026-12-21T22:00"))
    assert {w.value for w in back} == {False, 16.0} and {w.source for w in back} == {"weekly"}


def test_optimal_start_conditions_each_zone_from_its_start_and_the_air_handler_from_the_first() -> None:
    from bms.schedules import EarlyStart

    book = office_book()
    night = at("2026-12-22T04:00")
    for w in book.plan(night, force=["office"]):
        book.done(w)
    occupied = at("2026-12-22T07:00")
    book.zones["office"] = frozenset({"vav101", "vav102"})
    book.starts["office"] = {"vav101": EarlyStart(at("2026-12-22T05:40"), occupied),
                             "vav102": EarlyStart(at("2026-12-22T06:30"), occupied)}
    assert book.due(night) == at("2026-12-22T05:40")  # the engine wakes for the first start, not at 07:00
    assert book.plan(at("2026-12-22T05:39")) == []
    first = book.plan(at("2026-12-22T05:40"))
    assert sorted((w.point_id, w.value, w.scheduled, w.source) for w in first) == [
        ("ahu1/fan_cmd", True, "occupied", "optimal start"),  # no zone: it runs for the first zone
        ("vav101/zone_sp", 21.0, "occupied", "optimal start")]
    for w in first:
        book.done(w)
    assert book.due(at("2026-12-22T05:40")) == at("2026-12-22T06:30")
    assert [(w.point_id, w.value) for w in book.plan(at("2026-12-22T06:30"))] == [("vav102/zone_sp", 21.0)]
    book.done(book.plan(at("2026-12-22T06:30"))[0])
    assert book.plan(occupied) == []  # already at their occupied values: no write at 07:00
    # an override of the program wins over optimal start
    book.overrides["office"] = Override(value="unoccupied", until=at("2026-12-22T06:45"), user="olga")
    assert {(w.point_id, w.value, w.source) for w in book.plan(at("2026-12-22T06:31"))} == {
        ("ahu1/fan_cmd", False, "override"), ("vav101/zone_sp", 16.0, "override"),
        ("vav102/zone_sp", 16.0, "override")}


def test_a_zone_with_no_computed_start_waits_for_the_occupied_time() -> None:
    from bms.schedules import EarlyStart

    book = office_book()
    book.zones["office"] = frozenset({"vav101", "vav102"})
    book.starts["office"] = {"vav101": EarlyStart(at("2026-12-22T06:00"), at("2026-12-22T07:00"))}
    writes = book.plan(at("2026-12-22T06:10"), force=["office"])
    assert sorted((w.point_id, w.value) for w in writes) == [
        ("ahu1/fan_cmd", True), ("vav101/zone_sp", 21.0), ("vav102/zone_sp", 16.0)]


def test_a_dropped_assignment_gives_back_its_points() -> None:
    book = office_book()
    dropped = book.assign("office", [Assignment(points=["ahu1/fan_cmd"])], POINTS)
    assert sorted(t.point_id for t in dropped) == ["vav101/zone_sp", "vav102/zone_sp"]
    assert [t.point_id for t in book.remove("office")] == ["ahu1/fan_cmd"]
    assert book.due(0.0) is None


def test_a_weeks_preview_marks_exceptions() -> None:
    from bms.schedules import OnDate, ScheduleException

    book = ScheduleBook(LONDON)
    book.put(Schedule(name="s", default="unoccupied",
                      weekly={"mon": [TimeValue("07:00", "occupied"), TimeValue("18:00", "unoccupied")]},
                      exceptions=[ScheduleException(name="Christmas", when=OnDate(date="2026-12-28"), priority=10)]))
    week = book.week("s", dt.date(2026, 12, 21))
    assert [(d.date, d.weekday, d.source, d.exception) for d in week[:1] + week[-1:]] == [
        ("2026-12-21", "mon", "weekly", False), ("2026-12-27", "sun", "weekly", False)]
    following = book.week("s", dt.date(2026, 12, 28))
    assert (following[0].source, following[0].exception, following[0].entries) == ("Christmas", True, [])
    assert following[0].start_value == "unoccupied"


@pytest.mark.parametrize(("zone", "day", "entry", "fires_at"), [
    # spring forward: 02:30 does not exist, it fires once at 03:00
    ("America/New_York", "2026-03-08", "02:30", "2026-03-08T03:00:00-04:00"),
    ("Europe/London", "2026-03-29", "01:30", "2026-03-29T02:00:00+01:00"),  # London skips 01:00-02:00
    # fall back: 01:30 happens twice, it fires the first time only
    ("America/New_York", "2026-11-01", "01:30", "2026-11-01T01:30:00-04:00"),
    ("Europe/London", "2026-10-25", "01:30", "2026-10-25T01:30:00+01:00"),
])
def test_on_dst_days_the_engine_wakes_once_for_the_entry(zone: str, day: str, entry: str, fires_at: str) -> None:
    tz = ZoneInfo(zone)
    book = ScheduleBook(tz)
    book.put(Schedule(name="s", default="unoccupied", weekly={"sun": [TimeValue(entry, "occupied"),
                                                                    TimeValue("12:00", "unoccupied")]}))
    book.assign("s", [Assignment(points=["ahu1/fan_cmd"])], POINTS)
    midnight = dt.datetime.fromisoformat(day).replace(tzinfo=tz).timestamp()
    for w in book.plan(midnight, force=["s"]):
        book.done(w)
    due = book.due(midnight)
    assert due == dt.datetime.fromisoformat(fires_at).timestamp()
    [write] = book.plan(due)
    assert (write.value, write.source) == (True, "weekly")
    book.done(write)
    assert book.due(due) == dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=tz).timestamp()
    assert book.plan(due + 3600) == []  # the second 01:30 of a fall-back day writes nothing
