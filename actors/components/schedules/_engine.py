"""The schedule engine as a component actor: ``schedules`` owns a ScheduleBook and schedules.db.

On start it reads the site's points from ``nodes``, puts the scenario's
schedules it has not met yet into schedules.db, loads the schedules, their
assignments and overrides, and writes each assigned point the value it
should have now. Then it sleeps until the next transition (a ticker timer
armed for that instant, at most :data:`MAX_SLEEP` ahead, never a
minute-by-minute poll) and writes what changed; a change (an edit, an
assignment, an override) writes the changed schedule's points at once.

A write goes through the point's priority array (``WritePoint`` to
``points`` at the assignment's priority, as ``schedule:NAME``), so it
reaches the device and yields to operators above it. Each write is one
audit row (``audit``, origin ``schedule:NAME``); a write is done, and
``ScheduleWritten`` published, only once its row is committed: while
audit.db cannot take it, the write is tried again with its row every
:data:`RETRY` seconds and the engine is Degraded.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from actors.components.schedules._zones import ZoneStarts, today
from actors.platform import Platform
from bms.api import parse_duration, parse_time
from bms.audit import AuditEntry, RecordAudit
from bms.config import Scenario
from bms.errors import BmsError, ConfigError, Conflict, NotFound, StoreError, Unavailable
from bms.messages import (
    DeviceAccepted,
    DeviceRemoved,
    GetPoint,
    ListNodes,
    RelinquishPoint,
    ScheduleWritten,
    Tick,
    WritePoint,
)
from bms.schedules import (
    MAX_LEAD,
    WEEKDAYS,
    EarlyStart,
    PlannedWrite,
    PointRef,
    Schedule,
    ScheduleBook,
    ScheduleStore,
    Target,
    TimeValue,
    WriteDeviceSchedule,
    check,
    instant,
    occupancy,
    point_refs,
    resolve,
    template,
    zone_of,
)
from bms.schedules._spec import Override, ScheduleSpec
from bms.schedules.messages import (
    AddException,
    AssignSchedule,
    CancelOverride,
    CreateSchedule,
    DeleteSchedule,
    GetSchedule,
    ListSchedules,
    OverrideSchedule,
    RemoveException,
    ScheduleBridges,
    ScheduleSummary,
    ScheduleValueChanged,
    ScheduleValues,
    ScheduleView,
    SetOptimalStart,
    SetProgram,
    StoreSchedule,
    UnassignSchedule,
    is_occupied,
)
from bms.supervision import Health, RestartPolicy

NAME = "schedules"
ASK_TIMEOUT = 30.0
MAX_SLEEP = 3600.0  # the timer is re-armed at least hourly (a wall clock set forward or back is caught up)
RETRY = 60.0  # seconds before a write whose audit row or point store failed is tried again
RECHECK = 300.0  # seconds between two computations of the zones' optimal starts in the hours before occupancy
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_json = msgspec.json.Encoder()


def schedule_of(spec: ScheduleSpec) -> Schedule:
    """A scenario schedule: its template, with its own program, default and exceptions on top."""
    base = template(spec.template, spec.name) if spec.template else Schedule(name=spec.name)
    return msgspec.structs.replace(
        base, default=spec.default if spec.default is not None or not spec.template else base.default,
        weekly={**base.weekly, **spec.weekly}, exceptions=[*base.exceptions, *spec.exceptions],
        description=spec.description or base.description, optimal_start=spec.optimal_start)


class ScheduleEngine(BmsActor):
    def __init__(self, name: str, ctx: Any, scenario: Scenario | None = None, bridges: tuple[str, ...] = ()) -> None:
        super().__init__(name, ctx)
        self.scenario = scenario
        self.bridges = bridges  # the site's BACnet bridges, who read and write device schedules
        self.book: ScheduleBook | None = None
        self.store: ScheduleStore | None = None
        self.points: dict[str, PointRef] = {}
        self.timer: tuple[int, str] | None = None
        self.recheck_at: float | None = None  # when the zones' optimal starts are computed again
        self.retry: dict[tuple[str, str], PlannedWrite] = {}  # writes not yet done (point store or audit failed)
        self.failures: dict[tuple[str, str], str] = {}  # (schedule, point) -> why the last write was refused
        self.audit_problem: str | None = None
        self.zones = ZoneStarts(ctx.data_dir / "history.db")
        self.published: dict[str, ScheduleValueChanged] = {}  # each schedule's value as last published

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        site = self.scenario.site.timezone if self.scenario is not None else "UTC"
        self.book = ScheduleBook(zone_of(site))
        self.timezone = site
        self.store = ScheduleStore(self.ctx.data_dir / "schedules.db")
        self._read_points()
        self._seed()
        book = self.book
        for stored in self.store.schedules():
            book.put(stored.schedule, stored.device_id, stored.object_id)
        for name, assignments in self.store.assignments().items():
            if name in book.schedules:
                book.assign(name, assignments, self.points)
        book.overrides = {n: o for n, o in self.store.overrides().items() if n in book.schedules}
        self.subscribe(DeviceAccepted)
        self.subscribe(DeviceRemoved)
        self._run(force=list(book.schedules))  # the value now, written at once
        self.log.info("schedules loaded", schedules=len(book.schedules),
                      points=sum(len(t) for t in book.targets.values()))

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        self.timer = None
        if self.store is not None:
            self.store.close()
        self.store = None

    @property
    def _book(self) -> ScheduleBook:
        assert self.book is not None
        return self.book

    @property
    def _store(self) -> ScheduleStore:
        assert self.store is not None
        return self.store

    def _ask(self, service: str, query: Any) -> Any:
        return self.ctx.registry.get(service).ask(query, timeout=ASK_TIMEOUT)

    def _read_points(self) -> None:
        self.points = point_refs(self._ask("nodes", ListNodes()))

    def _seed(self) -> None:
        """The scenario's schedules the store has not met yet (their assignments with them)."""
        if self.scenario is None or not self.scenario.schedules:
            return
        known = {s.schedule.name for s in self._store.schedules()}
        now = self.clock.now()
        for spec in self.scenario.schedules:
            if spec.name in known:
                continue
            schedule = schedule_of(spec)
            problems = check(schedule)
            if problems:
                self.log.error("scenario schedule skipped", schedule=spec.name, problem=problems[0])
                continue
            self._store.put(schedule, "scenario", now)
            self._store.set_assignments(spec.name, list(spec.assign), "scenario", now)
            self.log.info("scenario schedule added", schedule=spec.name)

    def _report(self) -> None:
        book = self._book
        problems = [f"{name}: {p}" for name, ps in sorted(book.problems.items()) for p in ps]
        problems += [f"{name}: {point}: {why}" for (name, point), why in sorted(self.failures.items())]
        if self.audit_problem is not None:
            problems.insert(0, f"schedule writes wait for their audit rows: {self.audit_problem}")
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.ctx.supervisor.report(self.name, Health.DEGRADED, problems[0] + more)
        else:
            self.ctx.supervisor.report(self.name, Health.HEALTHY, f"{len(book.schedules)} schedules, "
                                       f"{sum(len(t) for t in book.targets.values())} points")

    # ------------------------------------------------------------ evaluation
    def _run(self, force: Iterable[str] = ()) -> None:
        now = self.clock.now()
        book = self._book
        for name in book.expire(now):
            self._store.set_override(name, None)
            self.log.info("schedule override ended", schedule=name)
        self._optimal(now)
        planned = {(w.schedule, w.point_id): w for w in book.plan(now, force)}
        for key, w in list(self.retry.items()):
            if key not in planned and w.schedule in book.schedules:
                planned[key] = w
        self.retry = {}
        for w in planned.values():
            self._write(w, now)
        self._publish_values(now)
        self._report()
        self._arm(now)

    def _optimal(self, now: float) -> None:
        """The starts of each optimal-start schedule's zones for its next occupied time: computed from the
        hours before it (at most ``MAX_LEAD``), again every :data:`RECHECK` s as the zones' temperatures move,
        and held once a zone has started (its conditioning runs on to the occupied time)."""
        book = self._book
        self.recheck_at = None
        for name, schedule in book.schedules.items():
            if not (schedule.optimal_start and occupancy(schedule) and book.targets.get(name)):
                book.starts.pop(name, None)
                book.zones.pop(name, None)
                continue
            occupied_at = self.zones.next_occupied(book, name, now)
            started = {e: s for e, s in book.starts.get(name, {}).items()
                       if s.occupied_at == occupied_at and s.start_at <= now}
            book.starts[name] = started
            if occupied_at is None:
                continue
            window = occupied_at - MAX_LEAD * 60.0
            if now < window:
                self._recheck(window)
                continue
            zones = self.zones.zones(book, name, self.points, now, self._value)
            book.zones[name] = frozenset(z.equip for z in zones)
            waiting = False
            for z in zones:
                if z.equip in started:
                    continue
                waiting = True
                if z.start_at is not None:
                    started[z.equip] = EarlyStart(z.start_at, occupied_at)
            if waiting:
                self._recheck(now + RECHECK)

    def _recheck(self, at: float) -> None:
        self.recheck_at = at if self.recheck_at is None else min(self.recheck_at, at)

    def _publish_values(self, now: float) -> None:
        """A ScheduleValueChanged for each schedule whose present value changed (None: deleted)."""
        book = self._book
        for name in book.schedules:
            value, source = book.value(name, now)
            before = self.published.get(name)
            if before is None or before.value != value or type(before.value) is not type(value):
                event = ScheduleValueChanged(schedule=name, value=value, occupied=is_occupied(value), source=source,
                                             ts=now)
                self.published[name] = event
                self.publish(event)
        for name in [n for n in self.published if n not in book.schedules]:
            del self.published[name]
            self.publish(ScheduleValueChanged(schedule=name, value=None, occupied=False, source="deleted", ts=now))

    def _write(self, w: PlannedWrite, now: float) -> None:
        who = f"schedule:{w.schedule}"
        key = (w.schedule, w.point_id)
        outcome, detail = "done", ""
        try:
            self._ask("points", WritePoint(point_id=w.point_id, value=w.value, priority=w.priority, user=who,
                                           request_id=uuid.uuid4().hex))
        except Unavailable as err:  # the point store cannot take commands now: again later
            outcome, detail = "failed", str(err)
        except BmsError as err:  # refused (a guard, an unknown point): again at the next change
            outcome, detail = "refused", str(err)
        entry = AuditEntry(at=now, user=who, origin=who, action="scheduleWrite", target=w.point_id,
                           after=_json.encode({"value": w.value, "priority": w.priority, "schedule_value": w.scheduled,
                                               "source": w.source}).decode(),
                           outcome=outcome, detail=detail)
        if not self._audit(entry):
            self.retry[key] = w
            return
        if outcome == "failed":
            self.retry[key] = w
            self.failures[key] = detail
            self.log.warning("schedule write failed; tried again", schedule=w.schedule, point_id=w.point_id,
                             error=detail)
            return
        self._book.done(w)
        if outcome == "refused":
            self.failures[key] = detail
            self.log.error("schedule write refused", schedule=w.schedule, point_id=w.point_id, error=detail)
            return
        self.failures.pop(key, None)
        self.log.info("schedule write", schedule=w.schedule, point_id=w.point_id, value=w.value,
                      priority=w.priority, source=w.source)
        self.publish(ScheduleWritten(schedule_id=w.schedule, point_id=w.point_id, value=w.value, priority=w.priority,
                                     ts=now))

    def _audit(self, entry: AuditEntry) -> bool:
        """Commit the row (True), or say why not; no audit service (``[audit] enabled = false``): nothing to do."""
        ref = self.ctx.registry.find("audit")
        if ref is None:
            return True
        try:
            ref.ask(RecordAudit(entry=entry), timeout=ASK_TIMEOUT)
        except Exception as err:  # the writer answers its commit's error; a stopped writer, ActorDeadError
            if self.audit_problem is None:
                self.log.error("audit rows cannot be committed; schedule writes wait", error=str(err) or repr(err))
            self.audit_problem = str(err) or type(err).__name__
            return False
        if self.audit_problem is not None:
            self.log.info("audit rows committed again")
        self.audit_problem = None
        return True

    def _arm(self, now: float) -> None:
        """One timer, for the next instant a value may change (or a retry)."""
        due = self._book.due(now, every=True)  # unassigned schedules too: their values are published
        if self.recheck_at is not None:
            due = min(due if due is not None else self.recheck_at, self.recheck_at)
        if self.retry:
            due = min(due if due is not None else now + RETRY, now + RETRY)
        if self.timer is not None:
            self.ctx.ticker.cancel(self.timer)
            self.timer = None
        if due is None:
            return
        delay = max(0.0, min(due - now, MAX_SLEEP))
        # at the due time itself, not "in delay s": the clock may have moved since `now` was read
        self.timer = self.ctx.ticker.every(max(delay, 1.0), self.actor_ref, NAME, first_at=now + delay)

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        self._run()

    def _relinquish(self, name: str, targets: Iterable[Target], now: float) -> None:
        who = f"schedule:{name}"
        for t in targets:
            outcome, detail = "done", ""
            try:
                self._ask("points", RelinquishPoint(point_id=t.point_id, priority=t.priority, user=who,
                                                    request_id=uuid.uuid4().hex))
            except BmsError as err:
                outcome, detail = "refused", str(err)
            self._audit(AuditEntry(at=now, user=who, origin=who, action="scheduleRelease", target=t.point_id,
                                   after=_json.encode({"priority": t.priority}).decode(), outcome=outcome,
                                   detail=detail))
            self.failures.pop((name, t.point_id), None)

    # ------------------------------------------------------------ model changes
    @handles(DeviceAccepted, DeviceRemoved)
    def on_model(self, _event: Any) -> None:
        """Tag queries and subtrees take in (or let go of) the points of an accepted (removed) device."""
        self._read_points()
        book = self._book
        for name, assignments in list(book.assignments.items()):
            book.assign(name, assignments, self.points)
        self._run()

    # ------------------------------------------------------------ changes
    def _get(self, name: str) -> Schedule:
        found = self._book.schedules.get(name)
        if found is None:
            close = [n for n in self._book.schedules if n.startswith(name[:3])] if name else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise NotFound(f"no schedule named {name!r}{hint}")
        return found

    def _save(self, schedule: Schedule, user: str, device_id: str | None = None, object_id: str | None = None) -> None:
        problems = check(schedule)
        if problems:
            raise ConfigError(f"schedule {schedule.name}: {problems[0]}")
        try:
            self._store.put(schedule, user, self.clock.now(), device_id, object_id)
        except StoreError as err:
            raise Unavailable(f"the schedule is not saved, nothing changed: {err}") from err
        self._book.put(schedule, device_id, object_id)

    def _changed(self, name: str, user: str, force: bool = True) -> ScheduleView:
        """After an edit: the schedule's points get its value now (``force``: all of them; else those it has
        not written yet); a device's schedule goes back to it."""
        self.log.info("schedule changed", schedule=name, user=user)
        self._run(force=[name] if force else [])
        self._push(name, user)
        return self._view(name, None)

    def _push(self, name: str, user: str) -> None:
        """An edit of a schedule pulled from a device is written back to its Schedule object."""
        device_id, object_id = self._book.origins.get(name, (None, None))
        if device_id is None or object_id is None or self.scenario is None:
            return
        network = next((d.network for d in self.scenario.devices if d.id == device_id), None)
        bridge = self.ctx.registry.find(f"bacnet.{network}") if network is not None else None
        if bridge is None:
            self.log.warning("device schedule not written back: no bridge for its device", schedule=name,
                             device=device_id)
            return
        bridge.tell(WriteDeviceSchedule(device_id=device_id, object_id=object_id,
                                        schedule=self._book.schedules[name], user=user))
        # the lead: ``bms schedule push`` (actors/components/schedules/_device.py) answers the device's read-back

    @handles(CreateSchedule)
    def create(self, command: CreateSchedule) -> ScheduleView:
        if not _NAME.match(command.name):
            raise ConfigError(f"schedule name {command.name!r}: letters, digits, '_', '.', '-' (at most 64)")
        if command.name in self._book.schedules:
            raise Conflict(f"schedule {command.name!r} exists already")
        made = template(command.template, command.name) if command.template else Schedule(name=command.name)
        self._save(made, command.user)
        return self._changed(command.name, command.user)

    @handles(SetProgram)
    def set_program(self, command: SetProgram) -> ScheduleView:
        schedule = self._get(command.name)
        times = [tv.seconds for tv in command.entries]
        if len(set(times)) != len(times):
            raise ConfigError("two entries at the same time")
        unknown = [d for d in command.days if d not in WEEKDAYS]
        if unknown or not command.days:
            raise ConfigError(f"days: {', '.join(unknown) or 'none given'}: weekdays are {', '.join(WEEKDAYS)}")
        weekly: dict[Any, list[TimeValue]] = dict(schedule.weekly)
        for day in command.days:
            weekly[day] = sorted(command.entries, key=lambda tv: tv.seconds)
        self._save(msgspec.structs.replace(schedule, weekly=weekly), command.user)
        return self._changed(command.name, command.user)

    @handles(AddException)
    def add_exception(self, command: AddException) -> ScheduleView:
        schedule = self._get(command.name)
        kept = [e for e in schedule.exceptions if e.name != command.exception.name]
        self._save(msgspec.structs.replace(schedule, exceptions=[*kept, command.exception]), command.user)
        return self._changed(command.name, command.user)

    @handles(RemoveException)
    def remove_exception(self, command: RemoveException) -> ScheduleView:
        schedule = self._get(command.name)
        kept = [e for e in schedule.exceptions if e.name != command.exception]
        if len(kept) == len(schedule.exceptions):
            raise NotFound(f"schedule {command.name} has no exception {command.exception!r}")
        self._save(msgspec.structs.replace(schedule, exceptions=kept), command.user)
        return self._changed(command.name, command.user)

    @handles(AssignSchedule)
    def assign(self, command: AssignSchedule) -> ScheduleView:
        self._get(command.name)
        a = command.assignment
        if not (a.points or a.tags or a.under):
            raise ConfigError("name the points: ids, tags or a subtree")
        _, problems = resolve(a, self.points)
        if problems:
            raise NotFound(problems[0])
        assignments = [*self._book.assignments.get(command.name, []), a]
        try:
            self._store.set_assignments(command.name, assignments, command.user, self.clock.now())
        except StoreError as err:
            raise Unavailable(f"the assignment is not saved, nothing changed: {err}") from err
        self._relinquish(command.name, self._book.assign(command.name, assignments, self.points), self.clock.now())
        return self._changed(command.name, command.user, force=False)

    @handles(UnassignSchedule)
    def unassign(self, command: UnassignSchedule) -> ScheduleView:
        self._get(command.name)
        before = self._book.assignments.get(command.name, [])
        after = [msgspec.structs.replace(a, points=[p for p in a.points if p != command.point]) for a in before]
        after = [a for a in after if a.points or a.tags or a.under]
        if sum(len(a.points) for a in after) == sum(len(a.points) for a in before):
            raise NotFound(f"schedule {command.name} is not assigned to {command.point!r} by name")
        self._store.set_assignments(command.name, after, command.user, self.clock.now())
        self._relinquish(command.name, self._book.assign(command.name, after, self.points), self.clock.now())
        return self._changed(command.name, command.user)

    @handles(OverrideSchedule)
    def override(self, command: OverrideSchedule) -> ScheduleView:
        self._get(command.name)
        now = self.clock.now()
        until = self._until(command.until, now)
        if until <= now:
            raise ConfigError("until: the override must end in the future")
        if until > now + 7 * 86_400:
            raise ConfigError("until: an override lasts at most 7 days (change the program or add an exception)")
        made = Override(value=command.value, until=until, user=command.user)
        self._store.set_override(command.name, made)
        self._book.overrides[command.name] = made
        return self._changed(command.name, command.user)

    def _until(self, until: float | str, now: float) -> float:
        """An override's end: epoch s, ``HH:MM`` (the next one, site time), a duration ahead, a time spec."""
        if not isinstance(until, str):
            return float(until)
        text = until.strip()
        clock = _CLOCK.match(text)
        zone = self._book.zone
        if clock is not None:
            seconds = int(clock[1]) * 3600 + int(clock[2]) * 60
            day = today(zone, now)
            for ahead in range(3):
                at = instant(day + dt.timedelta(days=ahead), seconds, zone).timestamp()
                if at > now:
                    return at
        try:
            return now + parse_duration(text.lstrip("+"))
        except ConfigError:
            pass
        try:
            return parse_time(text, now, zone)
        except ConfigError as err:
            raise ConfigError(f"until: {err}") from None

    @handles(CancelOverride)
    def cancel_override(self, command: CancelOverride) -> ScheduleView:
        self._get(command.name)
        if self._book.overrides.pop(command.name, None) is None:
            raise NotFound(f"schedule {command.name} has no override running")
        self._store.set_override(command.name, None)
        return self._changed(command.name, command.user)

    @handles(SetOptimalStart)
    def set_optimal_start(self, command: SetOptimalStart) -> ScheduleView:
        schedule = self._get(command.name)
        if command.enabled and not occupancy(schedule):
            raise ConfigError(f"schedule {command.name} has no occupied value: optimal start starts the "
                              "conditioning of an occupancy schedule's zones")
        device_id, object_id = self._book.origins.get(command.name, (None, None))
        self._save(msgspec.structs.replace(schedule, optimal_start=command.enabled), command.user, device_id,
                   object_id)
        self.log.info("optimal start " + ("on" if command.enabled else "off"), schedule=command.name,
                      user=command.user)
        self._run(force=[command.name])  # not written back to a device: its Schedule object has no such thing
        return self._view(command.name, None)

    @handles(DeleteSchedule)
    def delete(self, command: DeleteSchedule) -> bool:
        self._get(command.name)
        self._store.delete(command.name)
        self._relinquish(command.name, self._book.remove(command.name), self.clock.now())
        self.retry = {k: w for k, w in self.retry.items() if k[0] != command.name}
        self.failures = {k: v for k, v in self.failures.items() if k[0] != command.name}
        self.log.info("schedule deleted", schedule=command.name, user=command.user)
        self._run()
        return True

    @handles(StoreSchedule)
    def store_schedule(self, command: StoreSchedule) -> ScheduleView:
        """A schedule pulled from a device (or restored) kept like our own, with where it came from."""
        self._save(command.schedule, command.user, command.device_id, command.object_id)
        self.log.info("schedule stored", schedule=command.schedule.name, device=command.device_id,
                      object=command.object_id, user=command.user)
        self._run(force=[command.schedule.name])
        return self._view(command.schedule.name, None)

    @handles(ScheduleValues)
    def schedule_values(self, _query: ScheduleValues) -> list[ScheduleValueChanged]:
        return list(self.published.values())

    @handles(ScheduleBridges)
    def schedule_bridges(self, _query: ScheduleBridges) -> list[str]:
        """Who to ask for a device's Schedule and Calendar objects (the API asks them itself, off this thread)."""
        return list(self.bridges)

    # ------------------------------------------------------------ queries
    @handles(ListSchedules)
    def list_schedules(self, _query: ListSchedules) -> list[ScheduleSummary]:
        now = self.clock.now()
        return [self._book.summary(n, now) for n in sorted(self._book.schedules)]

    @handles(GetSchedule)
    def get_schedule(self, query: GetSchedule) -> ScheduleView:
        self._get(query.name)
        return self._view(query.name, query.week)

    def _view(self, name: str, week: str | None) -> ScheduleView:
        book = self._book
        now = self.clock.now()
        if week is None:
            first = today(book.zone, now)
        else:
            try:
                first = dt.date.fromisoformat(week)
            except ValueError:
                raise ConfigError(f"week: {week!r} is not a date (YYYY-MM-DD)") from None
        schedule = book.schedules[name]
        zones = [msgspec.structs.replace(z, acting=schedule.optimal_start, started=book.early(name, z.equip, now))
                 for z in (self.zones.zones(book, name, self.points, now, self._value) if occupancy(schedule)
                           else [])]
        return ScheduleView(summary=book.summary(name, now), schedule=schedule, timezone=self.timezone,
                            assignments=book.assignments.get(name, []),
                            points=[t.point_id for t in book.targets.get(name, [])],
                            override=book.overrides.get(name), week=book.week(name, first), zones=zones,
                            problems=[*book.problems.get(name, []),
                                      *(f"{p}: {why}" for (n, p), why in sorted(self.failures.items()) if n == name)])

    def _value(self, point_id: str) -> Any:
        try:
            return self._ask("points", GetPoint(point_id=point_id)).value
        except BmsError:
            return None


def schedules_component(platform: Platform) -> list[ChildSpec]:
    from actors.components.bacnet import bacnet_bridge_names

    return [ChildSpec(NAME, ScheduleEngine, kwargs={"scenario": platform.site.scenario,
                                                    "bridges": tuple(bacnet_bridge_names(platform))},
                      policy=RestartPolicy())]


__all__ = ["NAME", "ScheduleEngine", "schedule_of", "schedules_component"]
