"""The schedule engine's state as a plain object: which schedule commands which point, what is due, when.

:class:`ScheduleBook` holds the schedules, their assignments (resolved to
:class:`Target` points), running overrides and what was last written to
each point. The engine asks it :meth:`~ScheduleBook.due` (the next
instant a value may change: a transition or an override's end), and at
that instant (or at start-up, or after a change) :meth:`~ScheduleBook.plan`
gives the writes to make; each becomes done with :meth:`~ScheduleBook.done`
once the point store took it and its audit row is committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from bms.schedules._evaluate import next_transition, program_for, value_at
from bms.schedules._spec import WEEKDAYS, Assignment, Override, Schedule, Value
from bms.schedules._templates import OCCUPIED, UNOCCUPIED
from bms.schedules.messages import DayPreview, ScheduleSummary


class PointRef(NamedTuple):
    """What resolving an assignment needs to know of a point of the model."""

    point_id: str
    tags: frozenset[str]
    ancestors: tuple[str, ...]  # parent first, up to the site
    writable: bool
    kind: str  # "number", "bool", "enum"...


def point_refs(nodes: Iterable[Any]) -> dict[str, PointRef]:
    """The points of the model's ``nodes`` (Point and VirtualPoint) as assignments resolve them."""
    nodes = list(nodes)
    parents = {n.id: n.parent for n in nodes}
    refs: dict[str, PointRef] = {}
    tagsets: dict[tuple[str, ...], frozenset[str]] = {}  # shared: the points of a profile have the same tags
    chains: dict[str | None, tuple[str, ...]] = {}  # shared: the points of an equipment have the same parents
    for n in nodes:
        if n.type not in ("Point", "VirtualPoint"):
            continue
        chain = chains.get(n.parent)
        if chain is None:
            found: list[str] = []
            up = n.parent
            while up is not None and up not in found:
                found.append(up)
                up = parents.get(up)
            chain = chains[n.parent] = tuple(found)
        tags = tagsets.get(tuple(n.tags))
        if tags is None:
            tags = tagsets[tuple(n.tags)] = frozenset(n.tags)
        refs[n.id] = PointRef(n.id, tags, chain, n.capabilities.writable, str(n.properties.get("kind", "number")))
    return refs


class Target(NamedTuple):
    point_id: str
    priority: int
    values: Mapping[str, Value]
    kind: str
    equip: str | None = None  # the point's parent: the zone optimal start starts early


class EarlyStart(NamedTuple):
    """A zone whose conditioning starts before the occupied time: from ``start_at`` until ``occupied_at``."""

    start_at: float
    occupied_at: float


class PlannedWrite(NamedTuple):
    schedule: str
    point_id: str
    value: Value  # what the point is written
    priority: int
    scheduled: Value  # the schedule's own value
    source: str  # "weekly", "override", an exception's name


def resolve(assignment: Assignment, points: Mapping[str, PointRef]) -> tuple[list[PointRef], list[str]]:
    """The writable points an assignment names, and a line for each name that is not one."""
    problems: list[str] = []
    found: dict[str, PointRef] = {}
    for pid in assignment.points:
        ref = points.get(pid)
        if ref is None:
            problems.append(f"unknown point {pid!r}")
        elif not ref.writable:
            problems.append(f"point {pid!r} is not writable")
        else:
            found[pid] = ref
    if assignment.tags or assignment.under:
        wanted = frozenset(assignment.tags)
        matched = [ref for ref in points.values() if ref.writable and wanted <= ref.tags
                   and (assignment.under is None or assignment.under in ref.ancestors)]
        if not matched:
            query = " ".join([*(f"tag {t}" for t in assignment.tags),
                              *([f"under {assignment.under}"] if assignment.under else [])])
            problems.append(f"no writable point matches {query}")
        found.update((ref.point_id, ref) for ref in matched)
    return list(found.values()), problems


def point_value(value: Value, values: Mapping[str, Value], kind: str) -> Value:
    """What a point is written for a schedule value: its mapping, else occupancy as on/off, else the value."""
    key = value if isinstance(value, str) else msgspec_text(value)
    if key in values:
        return values[key]
    if kind == "bool" and value in (OCCUPIED, UNOCCUPIED):
        return value == OCCUPIED
    return value


def msgspec_text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


class ScheduleBook:
    def __init__(self, zone: dt.tzinfo) -> None:
        self.zone = zone
        self.schedules: dict[str, Schedule] = {}
        self.origins: dict[str, tuple[str | None, str | None]] = {}  # device and object of a pulled schedule
        self.assignments: dict[str, list[Assignment]] = {}
        self.overrides: dict[str, Override] = {}
        self.targets: dict[str, list[Target]] = {}
        self.problems: dict[str, list[str]] = {}
        self.written: dict[tuple[str, str], Value] = {}  # (schedule, point) -> the value last written
        self.starts: dict[str, dict[str, EarlyStart]] = {}  # schedule -> zone (equip) -> its optimal start
        self.zones: dict[str, frozenset[str]] = {}  # schedule -> the equipment that are its zones

    # ------------------------------------------------------------ the model
    def put(self, schedule: Schedule, device_id: str | None = None, object_id: str | None = None) -> None:
        self.schedules[schedule.name] = schedule
        if device_id is not None or schedule.name not in self.origins:
            self.origins[schedule.name] = (device_id, object_id)

    def remove(self, name: str) -> list[Target]:
        """Forget a schedule; the targets it commanded (to relinquish)."""
        self.schedules.pop(name, None)
        self.origins.pop(name, None)
        self.assignments.pop(name, None)
        self.overrides.pop(name, None)
        self.problems.pop(name, None)
        self.starts.pop(name, None)
        self.zones.pop(name, None)
        for key in [k for k in self.written if k[0] == name]:
            del self.written[key]
        return self.targets.pop(name, [])

    def assign(self, name: str, assignments: list[Assignment], points: Mapping[str, PointRef]) -> list[Target]:
        """Set a schedule's assignments and resolve them; the targets it no longer commands."""
        self.assignments[name] = list(assignments)
        targets: dict[str, Target] = {}
        problems: list[str] = []
        for a in assignments:
            refs, missing = resolve(a, points)
            problems += missing
            for ref in refs:
                targets[ref.point_id] = Target(ref.point_id, a.priority, a.values, ref.kind,
                                               ref.ancestors[0] if ref.ancestors else None)
        before = self.targets.get(name, [])
        self.targets[name] = list(targets.values())
        self.problems[name] = problems
        kept = {(t.point_id, t.priority) for t in self.targets[name]}
        dropped = [t for t in before if (t.point_id, t.priority) not in kept]
        for t in dropped:
            self.written.pop((name, t.point_id), None)
        return dropped

    # ------------------------------------------------------------ time
    def value(self, name: str, now: float) -> tuple[Value, str]:
        return value_at(self.schedules[name], now, self.zone, self.overrides.get(name))

    def next_change(self, name: str, now: float) -> tuple[float, Value] | None:
        """The next instant the value changes (entries that repeat the value, 00:00 defaults, are passed over)."""
        schedule, override = self.schedules[name], self.overrides.get(name)
        current = self.value(name, now)[0]
        after = now
        for _ in range(64):
            found = next_transition(schedule, after, self.zone, override)
            if found is None:
                return None
            if found.value != current or (override is not None and found.at == override.until):
                return found.at, found.value
            after = found.at
        return None

    def due(self, now: float, every: bool = False) -> float | None:
        """The next instant any assigned schedule's value may change (``every``: any schedule's, assigned or
        not: someone follows their values)."""
        times = [found[0] for name in self.schedules if every or self.targets.get(name)
                 for found in [self.next_change(name, now)] if found is not None]
        times += [s.start_at for zones in self.starts.values() for s in zones.values() if s.start_at > now]
        return min(times, default=None)

    def early(self, name: str, equip: str | None, now: float) -> bool:
        """Whether a target of ``name`` on ``equip`` is in its optimal start (conditioned before the occupied
        time): a zone from its own start; equipment that is no zone (the air handler serving them) from the
        earliest zone's start."""
        zones = self.starts.get(name)
        if not zones:
            return False
        start = zones.get(equip) if equip is not None else None
        if start is None:
            if equip is not None and equip in self.zones.get(name, ()):
                return False  # a zone without a computed start (no values yet) waits for the occupied time
            start = min(zones.values())
        return start.start_at <= now < start.occupied_at

    def expire(self, now: float) -> list[str]:
        """Drop the overrides that have ended; their schedules' names."""
        ended = [name for name, o in self.overrides.items() if o.until <= now]
        for name in ended:
            del self.overrides[name]
        return ended

    def plan(self, now: float, force: Iterable[str] = ()) -> list[PlannedWrite]:
        """The writes due at ``now``: each target whose value differs from the last written (all of the
        ``force`` schedules' targets: at start-up, after a change)."""
        forced = set(force)
        out: list[PlannedWrite] = []
        for name, targets in self.targets.items():
            if name not in self.schedules or not targets:
                continue
            value, source = self.value(name, now)
            early = value != OCCUPIED and source != "override" and bool(self.starts.get(name))
            for t in targets:
                scheduled, why = value, source
                if early and self.early(name, t.equip, now):
                    scheduled, why = OCCUPIED, "optimal start"
                written = point_value(scheduled, t.values, t.kind)
                key = (name, t.point_id)
                if name in forced or key not in self.written or self.written[key] != written:
                    out.append(PlannedWrite(name, t.point_id, written, t.priority, scheduled, why))
        return out

    def done(self, write: PlannedWrite) -> None:
        self.written[(write.schedule, write.point_id)] = write.value

    # ------------------------------------------------------------ views
    def summary(self, name: str, now: float) -> ScheduleSummary:
        schedule = self.schedules[name]
        value, source = self.value(name, now)
        nxt = self.next_change(name, now)
        override = self.overrides.get(name)
        device_id, object_id = self.origins.get(name, (None, None))
        return ScheduleSummary(name=name, description=schedule.description, value=value, source=source,
                               next_at=nxt[0] if nxt else None, next_value=nxt[1] if nxt else None,
                               points=len(self.targets.get(name, [])), timezone=str(self.zone),
                               override_until=override.until if override else None,
                               device_id=device_id, object_id=object_id)

    def week(self, name: str, first: dt.date) -> list[DayPreview]:
        """Seven days from ``first``: each day's program, exceptions marked."""
        schedule = self.schedules[name]
        days: list[DayPreview] = []
        for i in range(7):
            day = first + dt.timedelta(days=i)
            program, source = program_for(schedule, day)
            start = schedule.default
            if program and program[0].seconds == 0:
                start = program[0].value
            days.append(DayPreview(date=day.isoformat(), weekday=WEEKDAYS[day.weekday()],  # type: ignore[arg-type]
                                   source=source, exception=source != "weekly", entries=program,
                                   start_value=start))
        return days
