"""The FDD engine as a component actor: ``fdd`` evaluates the rule library on the site's live values.

On start it loads ``[fdd] rules`` (conf/fdd: a bad file keeps the component Down with every problem in
the log, the first in health), binds the roles of each air handler by tags (``[fdd] bindings`` by
hand) and reads the points' present values. Samples are taken every ``sample`` seconds of the
library: on the periodic tick, and on a ``ValueChanged`` batch when a sample is due (so the engine
follows changes without waiting for the tick). Each sample runs the G36 rules (:class:`bms.fdd.LiveUnit`)
and the generic rules; a fault that persists is written to fdd.db, published as ``FddFaultRaised``
and raised in the alarm engine as ``fdd:EQUIP:RULE`` (:class:`~bms.alarms.ExternalAlarm`: its
notification routing applies); clearing likewise. Acknowledgement is recorded with the user (the API's
audit row says who) and acknowledges the fault's alarm; acknowledging that alarm in the alarm engine
acknowledges the fault. Faults active in fdd.db when the engine starts stay raised until their rule
clears them.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from actors._base import BmsActor, handles
from actors._registry import merged
from actors._supervisor import ChildSpec
from actors.platform import Platform
from bms.alarms import AckAlarms, AlarmAcknowledged, ExternalAlarm
from bms.errors import BmsError, ConfigError, NotFound, StoreError
from bms.fdd import RULES, STATE_NAMES, EquipBinding, Library, LiveUnit, Rule, Transition, bind, load_library
from bms.fdd._generic import GenericRule, run_generic
from bms.fdd._settings import FddSection, rules_directory
from bms.fdd._store import FaultStore
from bms.fdd.messages import (
    AckFault,
    FaultView,
    ListFaults,
    ListFddBindings,
    ListFddRules,
    RuleView,
)
from bms.messages import FddFaultCleared, FddFaultRaised, ListNodes, ListPoints, PointState, Tick, ValueChanged
from bms.model import Node
from bms.supervision import Health, RestartPolicy

NAME = "fdd"
ASK_TIMEOUT = 30.0
MAX_BUFFER = 10_000


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


class _Generic:
    """A generic rule run live: its recent samples, re-evaluated at each sample."""

    def __init__(self, rule: GenericRule, sample: float, equip: str) -> None:
        self.rule = rule
        self.equip = equip
        longest = max([*rule.numbers.values(), 3600.0 if rule.kind == "short-cycling" else 0.0, sample])
        self.samples: deque[tuple[float, tuple[float, ...]]] = deque(maxlen=min(MAX_BUFFER, int(longest / sample) + 2))
        self.keys = tuple(rule.points)
        self.active = False

    def sample(self, at: float, values: dict[str, float | None]) -> bool | None:
        """The new state when it changed, else None."""
        row = tuple(np.nan if (v := values.get(self.rule.points[k])) is None else v for k in self.keys)
        self.samples.append((at, row))
        ts = np.array([s[0] for s in self.samples])
        columns = np.array([s[1] for s in self.samples]).T
        active = bool(run_generic(self.rule, ts, dict(zip(self.keys, columns, strict=True)))[-1])
        if active == self.active:
            return None
        self.active = active
        return active


class FddEngine(BmsActor):
    def __init__(self, name: str, ctx: Any, settings: FddSection | None = None, directory: Path | None = None) -> None:
        super().__init__(name, ctx)
        self.settings = settings or FddSection()
        self.directory = directory
        self.library = Library()
        self.store: FaultStore | None = None
        self.nodes: dict[str, Node] = {}
        self.bindings: list[EquipBinding] = []
        self.units: dict[str, LiveUnit] = {}
        self.generic: list[_Generic] = []
        self.values: dict[str, float | None] = {}
        self.last_sample = float("-inf")
        self.problems: list[str] = []
        self.samples = 0

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        self.store = FaultStore(self.ctx.data_dir / "fdd.db")
        try:
            self.library = load_library(self.directory)
        except ConfigError as err:
            for problem in err.problems:
                self.log.error("fdd rules refused", problem=problem)
            self.ctx.supervisor.report(self.name, Health.DOWN, str(err))
            return
        nodes: list[Node] = self._ask("nodes", ListNodes())
        self.nodes = {n.id: n for n in nodes}
        disabled = frozenset(r for r, s in self.library.switches.items() if not s.enabled)
        self.bindings = bind(nodes, self.settings.bindings, disabled)
        self.problems = [f"{b.equip}: {note}" for b in self.bindings for note in b.notes if "match" not in note]
        p = self.library.params
        for b in self.bindings:
            rules = [r for r in RULES if r.id in b.runnable]
            unit = LiveUnit(b.roles, p, rules)
            active = self.store.faults(active=True, equips={b.equip})
            for fault in active:  # still raised: the rule must clear it
                if fault.rule in unit.rule_states:
                    unit.rule_states[fault.rule].active = True
            self.units[b.equip] = unit
        for g in self.library.generic:
            missing = [pid for pid in g.points.values() if pid not in self.nodes]
            if missing:
                self.problems.append(f"generic rule {g.name}: no point {missing[0]!r}")
                continue
            device = next(iter(g.points.values())).split("/")[0]
            running = _Generic(g, p.sample, device if device in self.nodes else "site")
            running.active = any(f.rule == g.name for f in self.store.faults(active=True, equips={running.equip}))
            self.generic.append(running)
        for problem in self.problems:
            self.log.error("fdd rule left out", problem=problem)
        states: list[PointState] = self._ask("points", ListPoints())
        self.values = {s.point_id: as_number(s.value) for s in states}
        self.subscribe(ValueChanged, merged(100_000))
        self.subscribe(AlarmAcknowledged)
        self.ctx.ticker.every(p.sample, self.actor_ref, "fdd")
        self._report()
        self.log.info("fdd loaded", equipment=len(self.units), generic=len(self.generic),
                      rules=sum(len(u.rules) for u in self.units.values()))

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.store is not None:
            self.store.close()
        self.store = None

    def _ask(self, service: str, query: Any) -> Any:
        return self.ctx.registry.get(service).ask(query, timeout=ASK_TIMEOUT)

    def _report(self) -> None:
        assert self.store is not None
        active = len(self.store.faults(active=True))
        running = sum(len(u.rules) for u in self.units.values()) + len(self.generic)
        summary = f"{running} rule(s) on {len(self.units)} air handler(s), {active} active fault(s)"
        if self.problems:
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            self.ctx.supervisor.report(self.name, Health.DEGRADED, f"{self.problems[0]}{more}; {summary}")
        else:
            self.ctx.supervisor.report(self.name, Health.HEALTHY, summary)

    # ------------------------------------------------------------ sampling
    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        self._sample(self.clock.now())

    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        for pv in batch.values:
            if pv.point_id in self.values or pv.point_id in self.nodes:
                self.values[pv.point_id] = as_number(pv.value)
        now = self.clock.now()
        if now - self.last_sample >= self.library.params.sample:
            self._sample(now)

    def _sample(self, now: float) -> None:
        if self.store is None or (not self.units and not self.generic):
            return
        self.last_sample = now
        self.samples += 1
        changed = False
        for b in self.bindings:
            unit = self.units.get(b.equip)
            if unit is None:
                continue
            for t in unit.sample(now, {role: self.values.get(point) for role, point in b.roles.items()}):
                changed |= self._transition(b, t)
        for g in self.generic:
            state = g.sample(now, self.values)
            if state is not None:
                changed |= self._generic_transition(g, state, now)
        if changed:
            self._report()

    def _transition(self, b: EquipBinding, t: Transition) -> bool:
        severity = self.library.switch(t.rule.id).severity
        point = next((b.roles[r] for r in t.rule.roles if r in b.roles), b.equip)
        return self._record(b.equip, t.rule.id, t.rule.title, severity, t.at, t.explanation, t.rule.causes,
                            STATE_NAMES.get(t.state, ""), t.active, point)

    def _generic_transition(self, g: _Generic, active: bool, at: float) -> bool:
        r = g.rule
        point = next(iter(r.points.values()))
        text = (f"{r.name}: {r.kind} rule on {', '.join(r.points.values())} "
                + ("held" if active else "no longer holds"))
        return self._record(g.equip, r.name, f"{r.kind} ({r.name})", r.severity, at, text, (), "", active, point)

    def _record(self, equip: str, rule: str, title: str, severity: str, at: float, text: str,
                causes: tuple[str, ...], state: str, active: bool, point: str) -> bool:
        assert self.store is not None
        try:
            if active:
                fault = self.store.raise_fault(equip=equip, rule=rule, title=title, severity=severity, at=at,
                                               explanation=text, causes=causes, state=state)
                self.log.warning("fdd fault raised", equip=equip, rule=rule, fault_id=fault.id, explanation=text)
                self.ctx.registry.publish(FddFaultRaised(rule, equip, text, at))
            else:
                cleared = self.store.clear(equip, rule, at)
                if cleared is None:
                    return False
                self.log.info("fdd fault cleared", equip=equip, rule=rule, fault_id=cleared.id)
                self.ctx.registry.publish(FddFaultCleared(rule, equip, at))
        except StoreError as err:
            self.log.error("fdd.db cannot be written", error=str(err))
            self.ctx.supervisor.report(self.name, Health.DEGRADED, f"fdd.db cannot be written: {err}")
            return False
        if self.settings.alarms:
            self.ctx.registry.publish(ExternalAlarm(alarm_id=f"fdd:{equip}:{rule}", point_id=point, active=active,
                                                    severity=severity, text=f"{equip} {text}" if active else text,
                                                    source="fdd"))
        return True

    # ------------------------------------------------------------ operators
    @handles(ListFddRules)
    def list_rules(self, query: ListFddRules) -> list[RuleView]:
        return rule_views(self.library)

    @handles(ListFddBindings)
    def list_bindings(self, query: ListFddBindings) -> list[EquipBinding]:
        if query.under is None:
            return self.bindings
        scope = self._under(query.under)
        return [b for b in self.bindings if b.equip in scope]

    @handles(ListFaults)
    def list_faults(self, query: ListFaults) -> list[FaultView]:
        assert self.store is not None
        return self.store.faults(active=query.active, equips=self._under(query.under) if query.under else None,
                                 limit=query.limit)

    @handles(AckFault)
    def ack(self, command: AckFault) -> FaultView:
        """Acknowledge a fault, and its alarm in the alarm engine (which stops its escalation)."""
        assert self.store is not None
        fault = self.store.ack(command.fault_id, command.user or "unknown", self.clock.now())
        self.log.info("fdd fault acknowledged", fault_id=fault.id, user=command.user)
        alarms = self.ctx.registry.find("alarms")
        if self.settings.alarms and alarms is not None:
            try:
                alarms.ask(AckAlarms(alarm_ids=(f"fdd:{fault.equip}:{fault.rule}",), user=fault.acked_by),
                           timeout=ASK_TIMEOUT)
            except BmsError as err:  # already acknowledged there, or no longer known: the fault's ack stands
                self.log.info("fdd alarm not acknowledged", fault_id=fault.id, reason=str(err))
        return fault

    @handles(AlarmAcknowledged)
    def on_alarm_ack(self, event: AlarmAcknowledged) -> None:
        """An operator acknowledged a fault's alarm in the alarm engine: the fault is acknowledged too."""
        if self.store is None or not event.alarm_id.startswith("fdd:"):
            return
        equip, _, rule = event.alarm_id[4:].rpartition(":")
        try:
            fault = self.store.latest(equip, rule)
            if fault is not None and not fault.acked_by:
                self.store.ack(fault.id, event.user or "unknown", event.ts)
                self.log.info("fdd fault acknowledged through its alarm", fault_id=fault.id, user=event.user)
        except StoreError as err:
            self.log.error("fdd.db cannot be written", error=str(err))

    def _under(self, node: str) -> set[str]:
        if node not in self.nodes:
            raise NotFound(f"no node {node!r}")
        found = {node}
        for n in self.nodes.values():
            up = n.parent
            while up is not None:
                if up == node:
                    found.add(n.id)
                    break
                up = self.nodes[up].parent if up in self.nodes else None
        return found


def rule_views(library: Library) -> list[RuleView]:
    views = [_g36_view(r, library) for r in RULES]
    views += [RuleView(id=g.name, title=f"{g.kind} rule", kind=g.kind, roles=tuple(g.points.values()),
                       severity=g.severity, equation=", ".join(f"{k} {v:g}" for k, v in g.numbers.items())
                       + (" (peak windows only)" if g.peak else "")) for g in library.generic]
    return views


def _g36_view(r: Rule, library: Library) -> RuleView:
    switch = library.switch(r.id)
    return RuleView(id=r.id, title=r.title, kind="g36", equation=r.equation, roles=r.roles,
                    states=tuple(STATE_NAMES[s].split(" ")[0] for s in r.states), causes=r.causes,
                    severity=switch.severity, enabled=switch.enabled)


def fdd_component(platform: Platform) -> list[ChildSpec]:
    section: FddSection = platform.section(NAME)
    directory = rules_directory(section, platform.site.path)
    return [ChildSpec(NAME, FddEngine, kwargs={"settings": section, "directory": directory},
                      policy=RestartPolicy())]


__all__ = ["NAME", "FddEngine", "as_number", "fdd_component", "rule_views"]
