"""The logic engine as a component actor: ``logic`` runs the site's programs in their sandboxes.

On start it loads the program files of ``[logic] programs`` and validates them against the site's
points (asked of ``nodes``): a program that does not validate is left out, one log line per problem,
and health is Degraded naming it. It restores each program's state and what it last wrote from
logic.db, and relinquishes the levels of programs no longer configured.

Triggers: every ``[logic] tick`` the programs whose interval has passed run (on the clock);
a ``ValueChanged`` batch runs each program listing one of its points in ``on_change`` once.
The persistent states that runs changed are saved to logic.db at each tick (one transaction for all
of them, not one per change batch) and when the engine stops, reloads or switches bundles: a crash
loses at most one tick of block memory. What programs wrote is saved when the message whose runs
wrote it has been handled (the tick, the change batch), in one transaction.
Inputs are the points' present values (from ``points`` at start, then the batches).
A run's writes go through the points' priority arrays (``WritePoint``/``RelinquishPoint`` to
``points``, user ``logic:NAME``, at the program's priority, only when the value changes, with the
site's constraints applied) and each leaves an audit row (origin ``logic:NAME``). Alarm requests
become :class:`~bms.alarms.ExternalAlarm` for the alarm engine (when they change). A program that
faults its budget or memory ``fault_limit`` runs in a row is disabled, with the reason in the log
and health; its outputs hold.
"""

from __future__ import annotations

import uuid
import weakref
from pathlib import Path
from typing import Any

import msgspec

from actors._base import BmsActor, handles
from actors._registry import merged
from actors._supervisor import ChildSpec
from actors.platform import Platform
from bms.alarms import ExternalAlarm
from bms.alarms._feed import AlarmFeed
from bms.audit import AuditEntry, RecordAudit
from bms.errors import BmsError, ConfigError, LogicError, NotFound, StoreError
from bms.logic._bundle import verify
from bms.logic._running import Loaded, RunningProgram, load_bundle, load_directory, program_directory
from bms.logic._sandbox import RunResult, Sandbox, Trace, Value, Write
from bms.logic._settings import LogicSection
from bms.logic._store import LogicStore, Output, StoredBundle
from bms.logic.messages import (
    BundleVersion,
    DeployBundle,
    DisableProgram,
    EnableProgram,
    EngineStatus,
    GetEngineStatus,
    GetProgram,
    ListPrograms,
    ListVersions,
    LogicEvent,
    ProgramTraces,
    ProgramView,
    ReloadLogic,
    RollbackBundle,
    StartLogic,
    StopLogic,
)
from bms.messages import ListNodes, ListPoints, PointState, RelinquishPoint, Tick, ValueChanged, WritePoint
from bms.schedules.messages import ScheduleValueChanged, ScheduleValues
from bms.supervision import Health, RestartPolicy

NAME = "logic"
ASK_TIMEOUT = 30.0


class OpenLogicFeed(msgspec.Struct, frozen=True):
    """The API opens a live stream of :class:`LogicEvent` (the feed lives on the API's loop)."""

    feed: AlarmFeed


class CloseLogicFeed(msgspec.Struct, frozen=True):
    feed: AlarmFeed


class LogicEngine(BmsActor):
    def __init__(self, name: str, ctx: Any, settings: LogicSection | None = None,
                 directory: Path | None = None) -> None:
        super().__init__(name, ctx)
        self.settings = settings or LogicSection()
        self.directory = directory
        self.store: LogicStore | None = None
        self.programs: dict[str, RunningProgram] = {}
        self.loaded = Loaded()
        self.values: dict[str, Value] = {}
        self.watchers: dict[str, list[str]] = {}  # point -> programs run on its change
        self.schedules: dict[str, Value] = {}  # schedule -> value, and "NAME/occupied" -> its flag (the engine's)
        self.schedule_readers: dict[str, list[str]] = {}  # schedule -> programs with a ScheduleRead of it
        self.schedules_known = False  # the schedule engine's values were read (an unknown schedule is then said)
        self.alarm_states: dict[str, bool] = {}
        self.dirty: set[str] = set()  # programs whose state changed since the last save
        self.outputs: dict[tuple[str, str], Output | None] = {}  # (program, point) written since the last save
        self.save_problem = ""  # why logic.db could not be written (health), "" once it could again
        self.known: set[str] = set()
        self.active: StoredBundle | None = None  # the bundle running (None: the configured directory)
        self.boot_problem = ""
        self.stopped_by = ""  # who stopped execution ("" running); kept in logic.db
        self.feeds: weakref.WeakSet[AlarmFeed] = weakref.WeakSet()

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        self.store = LogicStore(self.ctx.data_dir / "logic.db")
        nodes = self._ask("nodes", ListNodes())
        self.known = {n.id for n in nodes if n.type in ("Point", "VirtualPoint")}
        states: list[PointState] = self._ask("points", ListPoints())
        self.values = {p.point_id: _scalar(p.value) for p in states}
        self.boot_problem = ""
        self.stopped_by = self.store.setting("stopped")
        loaded, self.active = self._boot_source()
        self.subscribe(ScheduleValueChanged)  # before the ask: a change in between is not missed
        self._read_schedules()
        self._install(loaded)
        self.subscribe(ValueChanged, merged(100_000))
        self.ctx.ticker.every(self.settings.tick, self.actor_ref, "logic")
        self._report()
        self.log.info("logic loaded", programs=len(self.programs), left_out=len(self.loaded.skipped),
                      bundle=self.active.version if self.active else None)

    def _read_schedules(self) -> None:
        """The schedule engine's present values (none on a site without one: ScheduleRead gives its default)."""
        engine = self.ctx.registry.find("schedules")
        self.schedules_known = False
        if engine is None:
            return
        try:
            for event in engine.ask(ScheduleValues(), timeout=ASK_TIMEOUT) or ():
                if isinstance(event, ScheduleValueChanged):
                    self._schedule_value(event)
            self.schedules_known = True
        except Exception as err:  # the schedule engine is down: values come with its next changes
            self.log.warning("schedule values not read; ScheduleRead gives defaults until they change",
                             error=str(err) or type(err).__name__)

    def _schedule_value(self, event: ScheduleValueChanged) -> bool:
        """Take a schedule's value; True when it changed."""
        value = event.value if isinstance(event.value, bool | int | float | str) else None
        if value is None:
            changed = event.schedule in self.schedules
            self.schedules.pop(event.schedule, None)
            self.schedules.pop(event.schedule + "/occupied", None)
            return changed
        key = event.schedule + "/occupied"
        changed = self.schedules.get(event.schedule) != value or self.schedules.get(key) != event.occupied
        self.schedules[event.schedule], self.schedules[key] = value, event.occupied
        return changed

    def _schedules_of(self, names: tuple[str, ...], hand_written: bool) -> dict[str, Value]:
        if hand_written:  # a hand-written program may ask schedule(NAME) of any schedule
            return self.schedules
        found: dict[str, Value] = {}
        for name in names:
            if name in self.schedules:
                found[name] = self.schedules[name]
                found[name + "/occupied"] = self.schedules[name + "/occupied"]
        return found

    @handles(ScheduleValueChanged)
    def on_schedule(self, event: ScheduleValueChanged) -> None:
        if not self._schedule_value(event) or self.stopped_by:
            return
        for name in self.schedule_readers.get(event.schedule, ()):
            running = self.programs.get(name)
            if running is not None and running.running:
                self._run(running)
        self._save_outputs()

    def _boot_source(self) -> tuple[Loaded, StoredBundle | None]:
        """The last good bundle's programs; a bundle that no longer starts is marked failed and the one
        before it runs instead (or, with none left, the programs of the directory)."""
        assert self.store is not None
        bundles = self.store.bundles()
        active = next((b for b in bundles if b.active), None)
        while active is not None:
            try:
                return self._bundle(active), active
            except BmsError as err:
                previous = [b for b in bundles if b.seq < active.seq and b.status == "good"]
                back = previous[-1] if previous else None
                self.boot_problem = (f"bundle {active.version} failed to start ({err}); rolled back to "
                                     + (f"bundle {back.version}" if back else "the configured programs"))
                self.log.error("logic bundle failed to start: rolled back", version=active.version, error=str(err),
                               to=back.version if back else "configured programs")
                self.store.mark_failed(active.seq, str(err))
                self.store.activate(back.seq if back else None)
                active = back
        return load_directory(self.directory, self.known) if self.directory is not None else Loaded(), None

    def _bundle(self, stored: StoredBundle) -> Loaded:
        """A stored bundle verified again and validated; LogicError when it cannot run as a whole."""
        assert self.store is not None
        loaded = load_bundle(verify(self.store.bundle_data(stored.seq), self.settings.trusted_keys), self.known)
        if loaded.problems:
            raise ConfigError(f"bundle {stored.version}: {_first(loaded.problems)}", loaded.problems)
        return loaded

    def _install(self, loaded: Loaded) -> None:
        """Run ``loaded`` instead of the present set: states and disables from logic.db, the levels of
        programs (or outputs) that are gone relinquished."""
        assert self.store is not None
        s = self.settings
        self._save_states()
        for problem in loaded.problems:
            self.log.error("logic program left out", problem=problem)
        saved = self.store.programs()
        programs: dict[str, RunningProgram] = {}
        for program, compiled in loaded.programs:
            before = saved.get(compiled.name)
            options: dict[str, Any] = {"budget": s.budget, "max_memory": s.max_memory, "fault_limit": s.fault_limit,
                                       "trace_runs": s.trace_runs}
            try:
                running = RunningProgram.start(program, compiled, self.clock, state=before.state if before else None,
                                               **options)
            except BmsError as err:  # a saved state the program cannot take: start afresh, say so
                self.log.warning("saved state not restored", program=compiled.name, error=str(err))
                running = RunningProgram.start(program, compiled, self.clock, **options)
            if before is not None and before.disabled:
                running.disabled, running.reason = before.disabled, before.reason
            programs[compiled.name] = running
        self.programs, self.loaded = programs, loaded
        for out in self.store.outputs():
            owner = self.programs.get(out.program)
            if owner is not None and out.point_id in owner.compiled.writes:
                owner.written[out.point_id] = out.value
            elif out.program not in loaded.skipped:
                self._release(out)
        self.watchers = {}
        self.schedule_readers = {}
        for running in self.programs.values():
            for point in running.compiled.on_change:
                self.watchers.setdefault(point, []).append(running.name)
            for schedule in running.compiled.schedules:  # a schedule's change runs the programs reading it
                self.schedule_readers.setdefault(schedule, []).append(running.name)
                if self.schedules_known and schedule not in self.schedules:
                    self.log.warning("ScheduleRead of a schedule the schedule engine does not have: its default "
                                     "until the schedule exists", program=running.name, schedule=schedule)

    def teardown(self) -> None:
        for feed in list(self.feeds):
            feed.close_threadsafe()  # clients see the stream end and reconnect
        self.feeds = weakref.WeakSet()
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.store is not None:
            self._save_states()
            self.store.close()
        self.store = None

    def _ask(self, service: str, query: Any) -> Any:
        return self.ctx.registry.get(service).ask(query, timeout=ASK_TIMEOUT)

    def _report(self) -> None:
        faulted = [p for p in self.programs.values() if p.disabled == "fault"]
        if self.stopped_by:
            self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                       f"execution stopped by {self.stopped_by}: no program runs, outputs hold")
        elif self.boot_problem:
            self.ctx.supervisor.report(self.name, Health.DEGRADED, self.boot_problem)
        elif self.save_problem:
            self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                       f"{self.save_problem} (programs run on; their states and outputs wait)")
        elif self.loaded.skipped:
            first = self.loaded.problems[0] if self.loaded.problems else ""
            self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                       f"program(s) left out: {', '.join(self.loaded.skipped)} ({first})")
        elif faulted:
            self.ctx.supervisor.report(self.name, Health.DEGRADED, "; ".join(p.reason for p in faulted))
        else:
            running = sum(1 for p in self.programs.values() if p.running)
            self.ctx.supervisor.report(self.name, Health.HEALTHY,
                                       f"{running} of {len(self.programs)} program(s) running")

    # ------------------------------------------------------------ triggers
    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        if self.stopped_by:
            return
        now = self.clock.monotonic()
        for running in list(self.programs.values()):
            interval = running.compiled.interval
            if interval > 0 and running.running and running.next_due <= now:
                running.next_due += interval
                if running.next_due <= now:  # fell behind (a long pause): no burst of runs to catch up
                    running.next_due = now + interval
                self._run(running)
        self._save_states()

    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        due: dict[str, None] = {}
        for pv in batch.values:
            value = pv.value
            self.values[pv.point_id] = value if value is None or value.__class__ in _SCALARS else _scalar(value)
            for name in self.watchers.get(pv.point_id, ()):
                due[name] = None
        if self.stopped_by:
            return
        for name in due:  # each program at most once per batch
            running = self.programs.get(name)
            if running is not None and running.running:
                self._run(running)
        self._save_outputs()

    # ------------------------------------------------------------ runs
    def _run(self, running: RunningProgram) -> None:
        compiled = running.compiled
        schedules = self._schedules_of(compiled.schedules, compiled.hand_written) if self.schedules else None
        # the values are scalars or None (checked as they came in): the sandbox's way in without a check
        result = running.sandbox.run_reads(tuple(map(self.values.get, compiled.reads)), schedules)
        if running.record(result):
            self.log.error("logic program disabled", program=running.name, reason=running.reason)
            self._persist_disabled(running)
            self._report()
            self._emit(LogicEvent(kind="disabled", at=result.at, program=running.name, detail=running.reason))
        if self.feeds:
            self._emit(LogicEvent(kind="run", at=result.at, program=running.name, duration=result.duration)
                       if result.ok else
                       LogicEvent(kind="error", at=result.at, program=running.name, duration=result.duration,
                                  error=result.error or "", fault=result.fault or ""))
        if not result.ok:
            if result.fault not in ("budget", "memory"):
                self.log.warning("logic run failed", program=running.name, error=result.error)
            return
        self.dirty.add(running.name)
        for line in result.logs:
            self.log.info("logic log", program=running.name, level=line.level, text=line.text)
        writes, held = running.outcome(result, self.values, self.loaded.constraints)
        for why in held:
            self.log.info("logic write held", program=running.name, reason=why)
        for write in writes:
            self._write(running, write, result.at)
        self._alarms(running, result)

    def _write(self, running: RunningProgram, write: Write, at: float) -> None:
        user = origin = f"logic:{running.name}"
        before = running.written.get(write.point)
        command: Any
        if write.value is None:
            command = RelinquishPoint(point_id=write.point, priority=write.priority, user=user,
                                      request_id=uuid.uuid4().hex)
            action = "relinquishPoint"
        else:
            command = WritePoint(point_id=write.point, value=write.value, priority=write.priority, user=user,
                                 request_id=uuid.uuid4().hex)
            action = "writePoint"
        outcome, detail = "done", ""
        try:
            self._ask("points", command)
        except BmsError as err:
            outcome, detail = "refused", str(err)
            self.log.warning("logic write refused", program=running.name, point_id=write.point, error=detail)
        else:
            running.written[write.point] = write.value
            if self.feeds:
                self._emit(LogicEvent(kind="write", at=at, program=running.name, point=write.point,
                                      value=write.value, priority=write.priority))
            # kept with the states when the message that ran the program is handled (one transaction)
            self.outputs[(running.name, write.point)] = (
                None if write.value is None else Output(running.name, write.point, write.priority, write.value))
        self._audit(AuditEntry(
            at=at, user=user, origin=origin, action=action, target=write.point,
            before=msgspec.json.encode({"value": before}).decode() if before is not None else "",
            after=msgspec.json.encode({"priority": write.priority, "value": write.value}).decode(),
            outcome=outcome, detail=detail))

    def _audit(self, entry: AuditEntry) -> None:
        audit = self.ctx.registry.find("audit")
        if audit is not None:
            audit.tell(RecordAudit(entry=entry))
        else:  # no audit service on this site (measurements): the log keeps the line
            self.log.info("audit", action=entry.action, target=entry.target, user=entry.user)

    def _release(self, out: Output) -> None:
        """A program no longer configured: give back its level on each point it wrote."""
        self.log.info("logic program removed: relinquishing its output", program=out.program, point_id=out.point_id)
        user = f"logic:{out.program}"
        try:
            self._ask("points", RelinquishPoint(point_id=out.point_id, priority=out.priority, user=user,
                                                request_id=uuid.uuid4().hex))
        except BmsError as err:
            self.log.warning("relinquish refused", program=out.program, point_id=out.point_id, error=str(err))
        self._audit(AuditEntry(at=self.clock.now(), user=user, origin=user, action="relinquishPoint",
                               target=out.point_id, after=msgspec.json.encode(
                                   {"priority": out.priority, "value": None}).decode(),
                               detail="program removed"))
        self.outputs.pop((out.program, out.point_id), None)
        if self.store is not None:
            self.store.forget(out.program, out.point_id)

    def _alarms(self, running: RunningProgram, result: RunResult) -> None:
        for request in result.alarms:
            alarm_id = f"logic:{running.name}:{request.alarm}"
            if self.alarm_states.get(alarm_id, False) == request.active:
                continue
            self.alarm_states[alarm_id] = request.active
            point = (running.compiled.writes or running.compiled.reads or (alarm_id,))[0]
            self.ctx.registry.publish(ExternalAlarm(alarm_id=alarm_id, point_id=point, active=request.active,
                                                    severity=request.severity, text=request.message,
                                                    source=f"logic:{running.name}"))

    def _save_states(self) -> None:
        """The states that runs changed and what programs wrote, to logic.db in one transaction. When it
        cannot be written, both stay pending (the next save tries again) and health says why."""
        self._save(states=True)

    def _save_outputs(self) -> None:
        """What programs wrote in this message's runs (their states wait for the tick)."""
        self._save(states=False)

    def _save(self, states: bool) -> None:
        if self.store is None or not (self.outputs or (states and self.dirty)):
            return
        texts: list[tuple[str, str]] = []
        for name in (self.dirty if states else ()):
            running = self.programs.get(name)
            if running is None:
                continue
            try:
                texts.append((name, running.sandbox.state_text()))
            except LogicError as err:  # this program's state stays as saved before; the others are saved
                self.log.error("logic state not saved", program=name, error=str(err))
        outputs = self.outputs
        try:
            self.store.save(texts, list(outputs.items()))
        except StoreError as err:
            self.log.error("logic.db cannot be written", error=str(err))
            if not self.save_problem:
                self.save_problem = f"logic.db cannot be written: {err}"
                self._report()
            return
        if states:
            self.dirty = set()
        self.outputs = {}
        if self.save_problem:
            self.save_problem = ""
            self._report()

    def _persist_disabled(self, running: RunningProgram) -> None:
        if self.store is not None:
            self.store.set_disabled(running.name, running.disabled, running.reason)

    def _emit(self, event: LogicEvent) -> None:
        for feed in list(self.feeds):
            if not feed.offer_threadsafe(event):
                self.feeds.discard(feed)

    # ------------------------------------------------------------ engine control
    @handles(OpenLogicFeed)
    def open_feed(self, msg: OpenLogicFeed) -> bool:
        self.feeds.add(msg.feed)
        return True

    @handles(CloseLogicFeed)
    def close_feed(self, msg: CloseLogicFeed) -> bool:
        self.feeds.discard(msg.feed)
        return True

    @handles(GetEngineStatus)
    def engine_status(self, query: GetEngineStatus) -> EngineStatus:
        health = self.ctx.health.get(self.name)
        return EngineStatus(
            scheduler="stopped" if self.stopped_by else "running", stopped_by=self.stopped_by,
            bundle=self.active.version if self.active else "",
            source=f"bundle {self.active.version}" if self.active else str(self.directory or ""),
            health=(health.state.value if isinstance(health.state, Health) else str(health.state)) if health else "",
            reason=health.reason if health else "",
            programs=self.list_programs(ListPrograms()))

    @handles(StartLogic)
    def start_execution(self, command: StartLogic) -> EngineStatus:
        assert self.store is not None
        user = command.user or "an operator"
        before, self.stopped_by = self.stopped_by, ""
        self.store.set_setting("stopped", "")
        now = self.clock.monotonic()
        for running in self.programs.values():  # periodic programs run at the next tick, not in a burst
            running.next_due = min(running.next_due, now)
        self._control("startLogic", user, before, "running")
        return self.engine_status(GetEngineStatus())

    @handles(StopLogic)
    def stop_execution(self, command: StopLogic) -> EngineStatus:
        assert self.store is not None
        user = command.user or "an operator"
        before = self.stopped_by
        self.stopped_by = user
        self.store.set_setting("stopped", user)
        self._save_states()
        self._control("stopLogic", user, before, "stopped")
        return self.engine_status(GetEngineStatus())

    @handles(ReloadLogic)
    def reload_programs(self, command: ReloadLogic) -> EngineStatus:
        """The active bundle (verified again) or the program directory, read again; a bundle that no
        longer loads is refused (nothing changes), a directory's bad program is left out as at start."""
        nodes = self._ask("nodes", ListNodes())
        self.known = {n.id for n in nodes if n.type in ("Point", "VirtualPoint")}
        if self.active is not None:
            loaded = self._bundle(self.active)
        elif self.directory is not None:
            loaded = load_directory(self.directory, self.known)
        else:
            loaded = Loaded()
        self._install(loaded)
        self.boot_problem = ""
        user = command.user or "an operator"
        self._control("reloadLogic", user, "", f"{len(self.programs)} program(s)")
        self.log.info("logic reloaded", programs=len(self.programs), left_out=len(loaded.skipped), user=user)
        return self.engine_status(GetEngineStatus())

    def _control(self, action: str, user: str, before: str, after: str) -> None:
        self._audit(AuditEntry(at=self.clock.now(), user=user, origin="logic", action=action, target="logic engine",
                               before=msgspec.json.encode({"stopped_by": before}).decode() if before else "",
                               after=msgspec.json.encode({"scheduler": after}).decode()))
        self.log.info("logic engine " + action.removesuffix("Logic"), user=user)
        self._report()
        self._emit(LogicEvent(kind="engine", at=self.clock.now(), detail=f"{action} by {user}"))

    # ------------------------------------------------------------ operators
    def _program(self, name: str) -> RunningProgram:
        running = self.programs.get(name)
        if running is None:
            known = ", ".join(sorted(self.programs)) or "none"
            raise NotFound(f"no logic program {name!r} (programs: {known})")
        return running

    @handles(ListPrograms)
    def list_programs(self, query: ListPrograms) -> list[ProgramView]:
        return [p.view() for p in sorted(self.programs.values(), key=lambda p: p.name)]

    @handles(GetProgram)
    def get_program(self, query: GetProgram) -> ProgramView:
        return self._program(query.name).view()

    @handles(EnableProgram)
    def enable(self, command: EnableProgram) -> ProgramView:
        running = self._program(command.name)
        running.faults.reset()
        running.disabled, running.reason = "", ""
        running.next_due = self.clock.monotonic()
        self._persist_disabled(running)
        self.log.info("logic program enabled", program=running.name, user=command.user)
        self._report()
        return running.view()

    @handles(DisableProgram)
    def disable(self, command: DisableProgram) -> ProgramView:
        running = self._program(command.name)
        running.disabled, running.reason = "operator", f"disabled by {command.user or 'an operator'}"
        self._persist_disabled(running)
        self.log.info("logic program disabled", program=running.name, user=command.user)
        self._report()
        return running.view()

    # ------------------------------------------------------------ bundles
    @handles(DeployBundle)
    def deploy(self, command: DeployBundle) -> BundleVersion:
        assert self.store is not None
        bundle = verify(command.data, self.settings.trusted_keys)
        version = bundle.manifest.version
        loaded = load_bundle(bundle, self.known)
        if loaded.problems:
            raise ConfigError(f"bundle {version} refused: {_first(loaded.problems)}", loaded.problems)
        self._dry_run(version, loaded)
        try:
            seq = self.store.add_bundle(version, bundle.key_id, command.data, command.user, self.clock.now())
        except StoreError as err:
            raise LogicError(f"bundle {version} not deployed, nothing changed: {err}") from err
        before = self.active.version if self.active else ""
        self._switch(loaded, seq, command.user, "deployLogicBundle", before)
        self.log.info("logic bundle deployed", version=version, key_id=bundle.key_id, user=command.user,
                      programs=len(loaded.programs))
        return self._version(seq)

    @handles(RollbackBundle)
    def rollback(self, command: RollbackBundle) -> BundleVersion:
        assert self.store is not None
        if self.active is None:
            raise ConfigError("no bundle is deployed: nothing to roll back")
        previous = [b for b in self.store.bundles() if b.seq < self.active.seq and b.status == "good"]
        if not previous:
            raise ConfigError(f"bundle {self.active.version} is the first deployed: no previous version to roll back to")
        back = previous[-1]
        loaded = self._bundle(back)
        self.store.activate(back.seq)
        self._switch(loaded, back.seq, command.user, "rollbackLogicBundle", self.active.version)
        self.log.info("logic bundle rolled back", version=back.version, user=command.user)
        return self._version(back.seq)

    @handles(ListVersions)
    def versions(self, query: ListVersions) -> list[BundleVersion]:
        assert self.store is not None
        return [BundleVersion(seq=b.seq, version=b.version, key_id=b.key_id, deployed_at=b.deployed_at, user=b.user,
                              status=b.status, active=b.active, detail=b.detail) for b in self.store.bundles()]

    def _version(self, seq: int) -> BundleVersion:
        return next(v for v in self.versions(ListVersions()) if v.seq == seq)

    def _dry_run(self, version: str, loaded: Loaded) -> None:
        """Each program run once on the present values in a sandbox of its own; nothing is written."""
        s = self.settings
        for _program, compiled in loaded.programs:
            sandbox = Sandbox(compiled, self.clock, budget=compiled.budget or s.budget, max_memory=s.max_memory)
            inputs = {p: v for p in compiled.reads if isinstance(v := self.values.get(p), bool | int | float | str)}
            result = sandbox.run(inputs, self._schedules_of(compiled.schedules, compiled.hand_written))
            if not result.ok:
                raise LogicError(f"bundle {version} refused: the dry run of {compiled.name} failed: {result.error}")

    def _switch(self, loaded: Loaded, seq: int, user: str, action: str, before: str) -> None:
        assert self.store is not None
        self._install(loaded)
        self.active = next(b for b in self.store.bundles() if b.seq == seq)
        self.boot_problem = ""
        self._audit(AuditEntry(at=self.clock.now(), user=user or "logic", origin="logic", action=action,
                               target=f"logic bundle {self.active.version}",
                               before=msgspec.json.encode({"version": before}).decode() if before else "",
                               after=msgspec.json.encode({"version": self.active.version,
                                                          "programs": sorted(self.programs)}).decode()))
        self._report()

    @handles(ProgramTraces)
    def traces(self, query: ProgramTraces) -> list[Trace]:
        return self._program(query.name).traces(query.limit)


_SCALARS = frozenset({float, int, bool, str})


def _scalar(value: object) -> Value:
    """A point's value as a program may read it: None unless it is a bool, a number or a string."""
    return value if isinstance(value, bool | int | float | str) else None


def _first(problems: list[str]) -> str:
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


def logic_component(platform: Platform) -> list[ChildSpec]:
    section: LogicSection = platform.section(NAME)
    directory = program_directory(section, platform.site.path)
    return [ChildSpec(NAME, LogicEngine, kwargs={"settings": section, "directory": directory},
                      policy=RestartPolicy())]


__all__ = ["NAME", "LogicEngine", "logic_component"]
