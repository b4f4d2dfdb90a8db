"""The schedule engine's asks, answers and configuration Structs.

* :class:`Assignment` -- a schedule drives points (a list, a tag query or
  a subtree) at a command priority, each schedule value mapped to the
  point's value (``occupied -> 21.0``);
* :class:`ScheduleSpec` -- a schedule of the scenario (``[[schedules]]``),
  from a template or written out, with its assignments;
* the asks of the ``schedules`` service (``ListSchedules``, ``GetSchedule``,
  ``CreateSchedule``, ``SetProgram``, ``AddException``, ``AssignSchedule``,
  ``OverrideSchedule``, ``CancelOverride``, ``DeleteSchedule``) and its
  answers (:class:`ScheduleSummary`, :class:`ScheduleView` with a week's
  :class:`DayPreview` and each zone's :class:`ZoneStart`);
* what the engine publishes for readers of schedules (the logic engine):
  :class:`ScheduleValueChanged` at each change of a schedule's present value,
  and :class:`ScheduleValues` to ask for them all.
"""

from __future__ import annotations

import msgspec

from bms.messages import Message
from bms.schedules._spec import (
    Assignment,
    IsoDate,
    Override,
    Priority,
    Schedule,
    ScheduleException,
    ScheduleName,
    ScheduleSpec,
    Template,
    TimeValue,
    Value,
    Weekday,
)

# ------------------------------------------------------------------ answers


class DayPreview(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One day of a schedule as it will run: its program and where it comes from."""

    date: IsoDate
    weekday: Weekday
    source: str  # "weekly" or the exception's name
    exception: bool
    entries: list[TimeValue]
    start_value: Value = None  # the value at 00:00


class ZoneStart(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Optimal start of one zone: when conditioning starts so that it reaches its setpoint at occupancy."""

    equip: str
    zone_temp_point: str
    setpoint_point: str
    outdoor_point: str | None
    occupied_at: float | None  # the next occupied time (epoch s)
    start_at: float | None  # the computed start (epoch s)
    lead_minutes: float | None
    zone_temp: float | None
    setpoint: float | None
    outdoor: float | None
    rates: str  # where the rates come from: "learned from N warm-ups..." or "default ..."
    problem: str = ""
    # the schedule acts on it (``optimal_start``): the zone's points get their occupied value from start_at;
    # ``started``: that has happened for this occupied time
    acting: bool = False
    started: bool = False


class ScheduleSummary(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str
    description: str
    value: Value
    source: str  # "weekly", "default", "override" or an exception's name
    next_at: float | None
    next_value: Value
    points: int
    timezone: str = "UTC"  # the site's: the times above are shown in it
    override_until: float | None = None
    device_id: str | None = None  # a schedule pulled from a device: where it lives
    object_id: str | None = None


class ScheduleView(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    summary: ScheduleSummary
    schedule: Schedule
    timezone: str
    assignments: list[Assignment]
    points: list[str]  # the points the assignments resolve to now
    override: Override | None
    week: list[DayPreview]
    zones: list[ZoneStart] = []
    problems: list[str] = []


# ------------------------------------------------------------------ asks


class ListSchedules(Message, frozen=True):
    pass


class GetSchedule(Message, frozen=True):
    """A schedule with the 7 days from ``week`` (YYYY-MM-DD; None: today) and its zones' optimal start."""

    name: str
    week: str | None = None


class CreateSchedule(Message, frozen=True):
    name: str
    template: str | None = None  # None: an empty schedule (default None, no program)
    user: str = ""


class SetProgram(Message, frozen=True):
    """Replace the program of ``days`` (``[]`` clears them)."""

    name: str
    days: tuple[str, ...]
    entries: tuple[TimeValue, ...]
    user: str = ""


class AddException(Message, frozen=True):
    """Add (or replace, by name) an exception; ``program`` empty: the schedule's default all day."""

    name: str
    exception: ScheduleException
    user: str = ""


class RemoveException(Message, frozen=True):
    name: str
    exception: str
    user: str = ""


class AssignSchedule(Message, frozen=True):
    name: str
    assignment: Assignment
    user: str = ""


class UnassignSchedule(Message, frozen=True):
    """Drop every assignment of ``name`` naming ``point`` (its level is relinquished)."""

    name: str
    point: str
    user: str = ""


class OverrideSchedule(Message, frozen=True):
    """``value`` until ``until``, then the program again: epoch seconds, a wall-clock time of the site
    (``22:00``: the next one), a duration (``2h``) or a time spec (``2026-12-24 18:00``, site time)."""

    name: str
    value: Value
    until: float | str
    user: str = ""


class CancelOverride(Message, frozen=True):
    name: str
    user: str = ""


class SetOptimalStart(Message, frozen=True):
    """Let an occupancy schedule start its zones' conditioning early (``enabled``), or only at the occupied time."""

    name: str
    enabled: bool
    user: str = ""


class DeleteSchedule(Message, frozen=True):
    """Remove a schedule; the levels it holds are relinquished."""

    name: str
    user: str = ""


class StoreSchedule(Message, frozen=True):
    """Put a schedule into schedules.db as it is (a schedule pulled from a device: ``device_id``/``object_id``)."""

    schedule: Schedule
    device_id: str | None = None
    object_id: str | None = None
    user: str = ""



class ScheduleValueChanged(Message, frozen=True):
    """A schedule's present value, published by the schedule engine when it changes (a transition, an
    edit, an override, its start; ``value`` None: the schedule is gone). ``occupied``: the value is
    ``occupied`` (or true). Whoever reads schedules (the logic engine's ScheduleRead) follows these."""

    schedule: str
    value: Value
    occupied: bool
    source: str
    ts: float


class ScheduleValues(Message, frozen=True):
    """The present value of every schedule (a list of :class:`ScheduleValueChanged`), to start from."""


class ScheduleBridges(Message, frozen=True):
    """The registry names of the site's BACnet bridges (``bacnet.<network>``): who holds device schedules."""


MESSAGES: tuple[type[Message], ...] = (
    ListSchedules, GetSchedule, CreateSchedule, SetProgram, AddException, RemoveException, AssignSchedule,
    UnassignSchedule, OverrideSchedule, CancelOverride, SetOptimalStart, DeleteSchedule, StoreSchedule,
    ScheduleBridges, ScheduleValueChanged, ScheduleValues,
)


def is_occupied(value: Value) -> bool:
    """Whether a schedule value means occupied: ``occupied`` or true."""
    return value == "occupied" or value is True

__all__ = ["Assignment", "Priority", "ScheduleName", "ScheduleSpec", "Template"] + [m.__name__ for m in MESSAGES] + [
    "DayPreview", "ScheduleSummary", "ScheduleView", "ZoneStart", "is_occupied"]
