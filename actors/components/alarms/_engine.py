"""The alarm engine as a component actor: ``alarms`` owns an AlarmBook and alarms.db.

On start it reads the site's points from the ``nodes`` service (each
point's profile alarms), the scenario's alarms and those defined at run
time (alarms.db), restores the saved alarm states, and hands the book the
points' current values (asked of ``points``). Then it follows
``ValueChanged`` (merged lossless: every value counts toward a delay) and
``StatusChanged``, ticks every ``[alarms] tick`` seconds, and answers the
operators' commands and queries. What changed is written to alarms.db
(history rows and states, one transaction) before it is published or
answered; while the file cannot be written the engine keeps the rows,
reports Degraded and writes them at the next tick.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable
from typing import Any

import msgspec

from actors._base import BmsActor, handles
from actors._registry import merged
from actors._supervisor import ChildSpec
from actors.platform import Platform
from bms.alarms import (
    ALARM_EVENTS,
    SEVERITIES,
    AckAlarms,
    AlarmBook,
    AlarmDefinition,
    AlarmEvent,
    AlarmHistory,
    AlarmView,
    DefineAlarm,
    External,
    ExternalAlarm,
    GetAlarm,
    ListAlarms,
    PointMeta,
    RemoveAlarm,
    ShelveAlarm,
    UnshelveAlarm,
    check_template,
)
from bms.alarms._device import acknowledgement, device_alarm
from bms.alarms._feed import AlarmFeed
from bms.alarms._settings import AlarmsSection
from bms.alarms._store import AlarmStore
from bms.config import Scenario
from bms.errors import ConfigError, StoreError, Unavailable
from bms.messages import (
    DeviceAccepted,
    DeviceAckResult,
    DeviceEvent,
    DeviceRemoved,
    GetPoint,
    ListNodes,
    ListPoints,
    Message,
    PointState,
    PointValue,
    StatusChanged,
    Tick,
    ValueChanged,
)
from bms.points import point_infos
from bms.supervision import Health, RestartPolicy

NAME = "alarms"


class OpenAlarmFeed(msgspec.Struct, frozen=True):
    """API -> engine: hand every alarm event to ``feed`` from now on (answered True)."""

    feed: AlarmFeed


class CloseAlarmFeed(msgspec.Struct, frozen=True):
    feed: AlarmFeed


ASK_TIMEOUT = 30.0
DAY = 86_400.0


class AlarmEngine(BmsActor):
    def __init__(self, name: str, ctx: Any, settings: AlarmsSection | None = None,
                 scenario: Scenario | None = None) -> None:
        super().__init__(name, ctx)
        self.settings = settings or AlarmsSection()
        self.scenario = scenario
        self.book: AlarmBook | None = None
        self.store: AlarmStore | None = None
        self.meta: dict[str, PointMeta] = {}
        self.parents: dict[str, str | None] = {}
        self.problems: list[str] = []
        self.store_problem: str | None = None
        self.runtime: set[str] = set()  # alarms defined through the API / CLI (alarms.db), removable
        self.feeds: weakref.WeakSet[AlarmFeed] = weakref.WeakSet()
        self.device_events: dict[str, DeviceEvent] = {}  # device alarm id -> the latest event of it
        self.externals: dict[str, tuple[str, str, str, str]] = {}  # other engines' alarms kept in alarms.db

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        self.store = AlarmStore(self.ctx.data_dir / "alarms.db")
        s = self.settings
        self.book = AlarmBook(self.clock, classes=s.classes, chatter=s.chatter, flood=s.flood, meta=self.meta.get)
        nodes = self._ask("nodes", ListNodes())
        self.parents = {n.id: n.parent for n in nodes}
        definitions = self._point_alarms(nodes)
        definitions += list(self.scenario.alarms if self.scenario is not None else ())
        runtime = self.store.definitions()
        self.runtime = {d.id for d in runtime}
        definitions += runtime
        self.book.define(self._checked(definitions))
        # other engines' alarms (the logic engine's AlarmTrigger) come back as they were shown, with their records
        self.externals = self.store.externals()
        for alarm_id, (point_id, severity, text, _source) in self.externals.items():
            if alarm_id not in self.book.definitions:
                self.book.external_alarms[alarm_id] = External(point_id=point_id, severity=severity, text=text)
        self.book.restore(a for a in self.store.alarms()
                          if a.alarm_id in self.book.definitions or a.alarm_id in self.book.external_alarms)
        states: list[PointState] = self._ask("points", ListPoints())
        out = self.book.values(PointValue(p.point_id, p.value, p.ts or 0.0, p.flags)
                               for p in states if self.book.watched(p.point_id))
        self._commit(out)
        self.subscribe(ValueChanged, merged(100_000))
        self.subscribe(StatusChanged)
        self.subscribe(DeviceAccepted)
        self.subscribe(DeviceRemoved)
        self.subscribe(DeviceEvent)
        self.subscribe(DeviceAckResult)
        self.subscribe(ExternalAlarm)
        self.ctx.ticker.every(s.tick, self.actor_ref, "alarms")
        self._report()
        self.log.info("alarms loaded", definitions=len(self.book.definitions), problems=len(self.problems),
                      active=sum(1 for a in self.book.alarms.values() if a.state != "normal"))

    def _ask(self, service: str, query: Any) -> Any:
        return self.ctx.registry.get(service).ask(query, timeout=ASK_TIMEOUT)

    def teardown(self) -> None:
        for feed in list(self.feeds):
            feed.close_threadsafe()  # clients see the stream end and reconnect
        self.feeds = weakref.WeakSet()
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.store is not None:
            self.store.close()
        self.store = None

    @property
    def _book(self) -> AlarmBook:
        assert self.book is not None
        return self.book

    def _point_alarms(self, nodes: Iterable[Any]) -> list[AlarmDefinition]:
        infos, _ = point_infos(nodes, self.parents)  # unreadable points: the point store names them
        found: list[AlarmDefinition] = []
        for info in infos:
            self.meta[info.point_id] = PointMeta(info.spec.name, info.spec.unit, info.ancestors)
            found += [spec.definition(info.device, info.spec.key) for spec in info.spec.alarms]
        return found

    def _checked(self, definitions: Iterable[AlarmDefinition]) -> list[AlarmDefinition]:
        """The definitions that can run; one line in :attr:`problems` for each that cannot."""
        good: list[AlarmDefinition] = []
        for d in definitions:
            problem = self._problem(d)
            if problem is None:
                good.append(d)
            else:
                self.problems.append(problem)
                self.log.error("alarm skipped", problem=problem)
        return good

    def _problem(self, d: AlarmDefinition) -> str | None:
        template = check_template(d.message) if d.message else None
        if template is not None:
            return f"alarm {d.id}: message: {template}"
        for pid in (d.point, *d.referenced()):
            if pid not in self.meta:
                return f"alarm {d.id}: unknown point {pid!r}"
        return None

    def _report(self) -> None:
        if self.store_problem is not None:
            self.ctx.supervisor.report(self.name, Health.DEGRADED, f"alarms.db cannot be written: {self.store_problem}")
        elif self.problems:
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                       f"{len(self.problems)} alarm(s) not running: {self.problems[0]}{more}")
        else:
            active = sum(1 for a in self._book.alarms.values() if a.state != "normal")
            self.ctx.supervisor.report(self.name, Health.HEALTHY,
                                       f"{len(self._book.definitions)} alarms, {active} not normal")

    # ------------------------------------------------------------ persistence
    def _commit(self, out: list[Message], strict: bool = False) -> None:
        """Write what changed (history rows, states), then publish ``out``.

        ``strict`` (an operator's command): a file that cannot be written
        refuses the command (503); otherwise the rows wait for the next tick.
        """
        book = self._book
        rows: list[AlarmEvent] = book.journal
        if rows and self.store is not None:
            changed = {r.alarm_id for r in rows}
            try:
                self.store.save(rows, [book.alarms[a] for a in changed if a in book.alarms])
            except StoreError as err:
                was = self.store_problem
                self.store_problem = str(err)
                if was is None:
                    self.log.error("alarms.db cannot be written; rows kept in memory", error=str(err))
                    self._report()
                if strict:
                    raise Unavailable(f"the alarm change is kept in memory but not yet saved: {err}") from err
            else:
                book.journal = []
                if self.store_problem is not None:
                    self.store_problem = None
                    self.log.info("alarms.db writable again")
                    self._report()
        publish = self.ctx.registry.publish
        for msg in out:
            publish(msg)
        if self.feeds:
            for msg in out:
                if isinstance(msg, ALARM_EVENTS):
                    for feed in [f for f in self.feeds if not f.offer_threadsafe(msg)]:
                        self.feeds.discard(feed)

    # ------------------------------------------------------------ inputs
    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        out = self._book.values(batch.values)
        if out or self._book.journal:
            self._commit(out)

    @handles(StatusChanged)
    def on_status(self, change: StatusChanged) -> None:
        out = self._book.status(change)
        if out or self._book.journal:
            self._commit(out)

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        self._commit(self._book.tick())

    @handles(DeviceAccepted)
    def on_accepted(self, event: DeviceAccepted) -> None:
        self.parents.update((n.id, n.parent) for n in (event.equip, *event.points))
        self._commit(self._book.define(self._checked(self._point_alarms(event.points))))

    @handles(DeviceRemoved)
    def on_removed(self, event: DeviceRemoved) -> None:
        gone = set(event.node_ids)
        for alarm_id, d in list(self._book.definitions.items()):
            if d.point in gone:
                self._book.remove(alarm_id)
                if self.store is not None:
                    self.store.forget(alarm_id)

    @handles(DeviceEvent)
    def on_device_event(self, event: DeviceEvent) -> None:
        """A device's own alarm (BACnet intrinsic reporting) shown beside ours."""
        found = device_alarm(event)
        if found is None:
            return
        alarm_id, shown, active = found
        self.device_events[alarm_id] = event
        self._commit(self._book.external(alarm_id, shown, active))

    @handles(ExternalAlarm)
    def on_external(self, request: ExternalAlarm) -> None:
        """Another engine's alarm (the logic engine's AlarmTrigger): raised or cleared here."""
        if request.severity not in SEVERITIES:
            raise ConfigError(f"alarm {request.alarm_id}: unknown severity {request.severity!r}")
        shown = External(point_id=request.point_id, severity=request.severity,
                         text=request.text or request.alarm_id)
        source = request.source or "external"
        kept = (shown.point_id, shown.severity, shown.text, source)
        if self.externals.get(request.alarm_id) != kept and self.store is not None:
            self.store.save_external(request.alarm_id, *kept)  # a StoreError: a failure, the message tried again
            self.externals[request.alarm_id] = kept
        self._commit(self._book.external(request.alarm_id, shown, request.active, source=request.source or "external"))

    @handles(DeviceAckResult)
    def on_device_ack(self, result: DeviceAckResult) -> None:
        if result.ok:
            self.log.info("device alarm acknowledged on the device", device=result.device_id, object=result.object_id)
        else:
            self.log.warning("the device refused the acknowledgement", device=result.device_id,
                             object=result.object_id, error=result.error)

    # ------------------------------------------------------------ operators
    @handles(AckAlarms)
    def acknowledge(self, command: AckAlarms) -> list[AlarmView]:
        ids = list(command.alarm_ids)
        if command.all_matching:
            ids += [a for a in self._book.unacknowledged(command.under, command.severity) if a not in ids]
        out = self._book.acknowledge(ids, command.user)
        self._commit(out, strict=True)
        for alarm_id in ids:  # a device's own alarm is acknowledged on the device too
            event = self.device_events.get(alarm_id)
            if event is not None and event.ack_required:
                self.ctx.registry.publish(acknowledgement(event, command.user, uuid.uuid4().hex))
        self.log.info("alarms acknowledged", alarms=ids, user=command.user)
        return [self._book.view(a) for a in ids]

    @handles(ShelveAlarm)
    def shelve(self, command: ShelveAlarm) -> AlarmView:
        out = self._book.shelve(command.alarm_id, command.until, command.reason, command.user)
        self._commit(out, strict=True)
        self.log.info("alarm shelved", alarm=command.alarm_id, until=command.until, reason=command.reason,
                      user=command.user)
        return self._book.view(command.alarm_id)

    @handles(UnshelveAlarm)
    def unshelve(self, command: UnshelveAlarm) -> AlarmView:
        self._commit(self._book.unshelve(command.alarm_id, command.user), strict=True)
        self.log.info("alarm unshelved", alarm=command.alarm_id, user=command.user)
        return self._book.view(command.alarm_id)

    @handles(DefineAlarm)
    def define(self, command: DefineAlarm) -> AlarmView:
        d = command.definition
        problem = self._problem(d)
        if problem is not None:
            raise ConfigError(problem)
        assert self.store is not None
        try:
            self.store.define(d, command.user, self.clock.now())
        except StoreError as err:
            raise Unavailable(f"the alarm is not defined, nothing changed: {err}") from err
        self.runtime.add(d.id)
        out = self._book.define([d])
        known = [self._ask("points", GetPoint(point_id=pid)) for pid in (d.point, *d.referenced())]
        out += self._book.values(PointValue(p.point_id, p.value, p.ts or 0.0, p.flags) for p in known)
        self._commit(out)
        self.log.info("alarm defined", alarm=d.id, point=d.point, user=command.user)
        self._report()
        return self._book.view(d.id)

    @handles(RemoveAlarm)
    def remove(self, command: RemoveAlarm) -> bool:
        if command.alarm_id in self._book.definitions and command.alarm_id not in self.runtime:
            raise ConfigError(f"alarm {command.alarm_id} comes from the configuration (a profile or the scenario): "
                              "disable it there (enabled = false)")
        self._book.remove(command.alarm_id)
        self.runtime.discard(command.alarm_id)
        if self.store is not None:
            self.store.forget(command.alarm_id)
        self.log.info("alarm removed", alarm=command.alarm_id, user=command.user)
        return True

    @handles(OpenAlarmFeed)
    def open_feed(self, msg: OpenAlarmFeed) -> bool:
        self.feeds.add(msg.feed)
        return True

    @handles(CloseAlarmFeed)
    def close_feed(self, msg: CloseAlarmFeed) -> bool:
        self.feeds.discard(msg.feed)
        return True

    # ------------------------------------------------------------ queries
    @handles(ListAlarms)
    def list_alarms(self, query: ListAlarms) -> list[AlarmView]:
        try:
            return self._book.views(query)
        except ValueError as err:
            raise ConfigError(str(err)) from err

    @handles(GetAlarm)
    def get_alarm(self, query: GetAlarm) -> AlarmView:
        return self._book.view(query.alarm_id)

    @handles(AlarmHistory)
    def history(self, query: AlarmHistory) -> list[AlarmEvent]:
        assert self.store is not None
        return self.store.events(query.since, query.until, query.alarm_id, query.limit)


def alarms_component(platform: Platform) -> list[ChildSpec]:
    section: AlarmsSection = platform.section(NAME)
    return [ChildSpec(NAME, AlarmEngine, kwargs={"settings": section, "scenario": platform.site.scenario},
                      policy=RestartPolicy())]


__all__ = ["NAME", "AlarmEngine", "CloseAlarmFeed", "OpenAlarmFeed", "alarms_component"]
