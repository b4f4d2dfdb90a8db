"""AlarmBook: every alarm of a site, as one plain object on an injected clock.

It holds the definitions, one :class:`~bms.alarms.Alarm` record per
definition, and what it knows of the points they read. Each input returns
the messages to publish; :attr:`AlarmBook.journal` collects the history
rows (``AlarmEvent``) for the store to write. No threads: the alarm engine
actor owns it.

* :meth:`values` / :meth:`status` -- point values (``ValueChanged``) and
  flags (``StatusChanged``): the alarms reading those points are evaluated;
* :meth:`tick` -- delays, holds, stale periods, settling times and shelves
  run on the clock: a value that stays above its limit raises after the
  on-delay with no further update;
* :meth:`acknowledge`, :meth:`shelve`, :meth:`unshelve` -- the operator;
* :meth:`external` -- an alarm a device reports itself (BACnet intrinsic
  reporting), shown beside ours with the same lifecycle;
* chattering: an alarm raised ``chatter.count`` times within
  ``chatter.window`` seconds is marked chattering and notified once (its
  later raises have ``notify`` False) until it stays quiet for a window;
  a flood (more than ``flood.limit`` raises of all alarms within
  ``flood.window``) marks raises ``flood`` so notifications are grouped.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, NamedTuple

import msgspec
from msgspec import Meta

from bms.alarms._conditions import PointView, Reading, in_alarm, reliable, same
from bms.alarms._lifecycle import ANNUNCIATED, OUT_OF_SERVICE, RTN_UNACK, SUPPRESSED, UNACK, Alarm, AlarmRefused
from bms.alarms._messages import (
    AlarmAcknowledged,
    AlarmCleared,
    AlarmEvent,
    AlarmRaised,
    AlarmShelved,
    AlarmUnshelved,
    AlarmView,
    ListAlarms,
)
from bms.alarms._spec import (
    SEVERITIES,
    AlarmDefinition,
    ChangeOfState,
    HighLimit,
    LowLimit,
    StaleValue,
    Value,
    describe,
    render,
)
from bms.clock import Clock
from bms.errors import NotFound
from bms.messages import Message, PointValue, StatusChanged

EPSILON = 1e-6


class AlarmClass(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How alarms of a class behave: must an operator acknowledge them?"""

    ack_required: bool = True


_DEFAULT_CLASS = AlarmClass()


class ChatterRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Raised ``count`` times within ``window`` seconds: chattering (notified once)."""

    count: Annotated[int, Meta(ge=2)] = 5
    window: Annotated[float, Meta(gt=0)] = 600.0


class FloodRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """More than ``limit`` raises of all alarms within ``window`` seconds: a flood (digests)."""

    limit: Annotated[int, Meta(ge=1)] = 10
    window: Annotated[float, Meta(gt=0)] = 600.0


class PointMeta(NamedTuple):
    """What an alarm message and a filter need of a point: its name, unit and the nodes above it."""

    name: str
    unit: str = ""
    ancestors: frozenset[str] = frozenset()


class External(NamedTuple):
    """An alarm a device raised itself: how it is shown."""

    point_id: str
    severity: str
    text: str


_UNREAD = PointView(None, 0.0)  # a point never read yet


class _Limit(NamedTuple):
    """A plain limit alarm on the fast path: its record, where it raises and clears, which side."""

    alarm: Alarm
    raise_at: float
    clear_at: float
    high: bool


def _band(limit: _Limit, band: list[Any]) -> None:
    """Set ``band`` (``[lo, hi, limit]``) to the values that leave the alarm as it is (``lo < value <= hi``).

    A high limit not in alarm stays so up to the limit (``(-inf, limit]``); in alarm, above the limit less
    its deadband (``(limit - deadband, inf)``); a low limit the same mirrored (a strict bound moved by one
    ulp, :func:`math.nextafter`). While a delay runs the band is empty (NaN): every value is evaluated.
    A plain list: ``band[0] < value <= band[1]`` on an exact list is the cheapest check CPython makes.
    """
    alarm = limit.alarm
    if alarm.pending_since is not None:
        band[0] = band[1] = math.nan
    elif limit.high:
        band[0], band[1] = (limit.clear_at, math.inf) if alarm.active else (-math.inf, limit.raise_at)
    elif alarm.active:  # low, in alarm: stays while value < clear_at
        band[0], band[1] = -math.inf, math.nextafter(limit.clear_at, -math.inf)
    else:  # low, normal: stays while value >= raise_at
        band[0], band[1] = math.nextafter(limit.raise_at, -math.inf), math.inf


class AlarmBook:
    """Definitions, alarm records and the points they read; each call returns the messages to publish."""

    def __init__(
        self,
        clock: Clock,
        *,
        classes: Mapping[str, AlarmClass] | None = None,
        chatter: ChatterRule | None = None,
        flood: FloodRule | None = None,
        meta: Callable[[str], PointMeta | None] = lambda _: None,
    ) -> None:
        self.clock = clock
        self.classes = dict(classes or {})
        self.chatter = chatter or ChatterRule()
        self.flood = flood or FloodRule()
        self.meta = meta
        self.definitions: dict[str, AlarmDefinition] = {}
        self.alarms: dict[str, Alarm] = {}
        self.external_alarms: dict[str, External] = {}
        self.points: dict[str, Reading] = {}
        self.changed_at: dict[str, float] = {}
        self.journal: list[AlarmEvent] = []
        self._watch: dict[str, tuple[str, ...]] = {}  # point id -> alarm ids reading it (a tuple: 100k sets weigh)
        # points read by one plain limit alarm and nothing else: the band of values that leaves the alarm as
        # it is (see :class:`_Band`), kept current by each evaluation of the alarm
        self._plain: dict[str, list[Any]] = {}  # point id -> [lo, hi, its _Limit]
        self._changes: set[str] = set()  # points a change-of-state alarm reads
        self._due: dict[str, float] = {}  # alarm id -> when to look at it again
        self._raises: deque[float] = deque()
        self._chatter: dict[str, deque[float]] = {}
        self._described: dict[int, tuple[object, str, str]] = {}  # id(condition) -> (condition, unit, its words)

    # ------------------------------------------------------------ definitions
    def define(self, definitions: Iterable[AlarmDefinition]) -> list[Message]:
        """Hold ``definitions`` (replacing those of the same id, their state kept) and evaluate them."""
        out: list[Message] = []
        for d in definitions:
            old = self.definitions.get(d.id)
            if old is not None:
                self._unwatch(old)
            self.definitions[d.id] = d
            alarm = self.alarms.setdefault(d.id, Alarm(d.id, d.point))
            alarm.point_id = d.point
            for pid in (d.point, *d.referenced()):
                ids = self._watch.get(pid, ())
                if d.id not in ids:
                    self._watch[pid] = (*ids, d.id)
            if isinstance(d.condition, ChangeOfState):
                self._changes.add(d.point)
            for pid in (d.point, *d.referenced()):
                self._plain_path(pid)
            out += self._evaluate(d.id, self.clock.now())
        return out

    def remove(self, alarm_id: str) -> None:
        d = self.definitions.pop(alarm_id, None)
        if d is None:
            raise NotFound(f"no alarm {alarm_id!r}")
        self._unwatch(d)
        self.alarms.pop(alarm_id, None)
        self._due.pop(alarm_id, None)
        self._chatter.pop(alarm_id, None)

    def _unwatch(self, d: AlarmDefinition) -> None:
        for pid in (d.point, *d.referenced()):
            kept = tuple(a for a in self._watch.get(pid, ()) if a != d.id)
            if kept:
                self._watch[pid] = kept
            else:
                self._watch.pop(pid, None)
            self._plain_path(pid)

    def _plain_path(self, point_id: str) -> None:
        """Decide whether ``point_id`` takes the fast path: read by one enabled, unsuppressed limit alarm only."""
        self._plain.pop(point_id, None)
        ids = self._watch.get(point_id, ())
        if len(ids) != 1:
            return
        (alarm_id,) = ids
        d = self.definitions.get(alarm_id)
        alarm = self.alarms.get(alarm_id)
        if d is None or alarm is None or d.point != point_id or not d.enabled or d.suppress is not None:
            return
        cond = d.condition
        if isinstance(cond, HighLimit):
            limit = _Limit(alarm, cond.limit, cond.limit - cond.deadband, True)
        elif isinstance(cond, LowLimit):
            limit = _Limit(alarm, cond.limit, cond.limit + cond.deadband, False)
        else:
            return
        _band(limit, band := [math.nan, math.nan, limit])
        self._plain[point_id] = band

    def restore(self, alarms: Iterable[Alarm]) -> None:
        """Take back the records saved before a restart: delays and shelves resume on the clock."""
        for alarm in alarms:
            self.alarms[alarm.alarm_id] = alarm
            self._plain_path(alarm.point_id)
            d = self.definitions.get(alarm.alarm_id)
            if alarm.pending_since is not None and d is not None:
                self._due[alarm.alarm_id] = alarm.pending_since + (d.off_delay if alarm.active else d.on_delay)
            if alarm.shelved_until is not None:
                self._due[alarm.alarm_id] = min(self._due.get(alarm.alarm_id, math.inf), alarm.shelved_until)
            if alarm.settle_until is not None:
                self._due[alarm.alarm_id] = min(self._due.get(alarm.alarm_id, math.inf), alarm.settle_until)

    # ------------------------------------------------------------ inputs
    def watched(self, point_id: str) -> bool:
        return point_id in self._watch

    def values(self, changes: Iterable[PointValue]) -> list[Message]:
        """New point values: the alarms reading them are evaluated.

        The common case is a point read by one plain limit alarm whose value
        stays on its side of the limit (and deadband): one chained comparison
        against the alarm's band decides it here (the band is empty while a
        delay runs); a value that leaves the band is decided by
        :meth:`_limit`, anything else by :meth:`_evaluate`.
        """
        out: list[Message] = []
        watch, plain, points, tracked = self._watch, self._plain, self.points, self._changes
        now = self.clock.now()
        for change in changes:
            pid = change.point_id
            if pid in plain and not change.flags:
                band = plain[pid]
                points[pid] = change
                try:
                    if band[0] < change.value <= band[1]:  # stays as it is (a str or None: TypeError)
                        continue
                except TypeError:  # not a number: the general path says what that means
                    pass
                out += self._limit(pid, change, now)
                continue
            ids = watch.get(pid)
            if ids is None:
                continue
            if pid in tracked:
                before = points.get(pid)
                if before is not None and before.ts > 0 and not same(before.value, change.value):
                    self.changed_at[pid] = change.ts
            points[pid] = change
            for alarm_id in ids:
                out += self._evaluate(alarm_id, now)
        return out

    def status(self, change: StatusChanged) -> list[Message]:
        """A point's flags changed (down, stale, fault, mismatch): its alarms are evaluated."""
        ids = self._watch.get(change.point_id)
        if ids is None:
            return []
        before = self.points.get(change.point_id)
        self.points[change.point_id] = PointView(before.value if before else None, before.ts if before else 0.0,
                                                 change.flags)
        now = self.clock.now()
        out: list[Message] = []
        for alarm_id in ids:
            out += self._evaluate(alarm_id, now)
        return out

    def tick(self) -> list[Message]:
        """Whatever waits on the clock: delays, holds, stale periods, settling, shelves, chattering."""
        now = self.clock.now()
        out: list[Message] = []
        due = [alarm_id for alarm_id, at in self._due.items() if at <= now + EPSILON]
        for alarm_id in due:
            self._due.pop(alarm_id, None)
            alarm = self.alarms.get(alarm_id)
            if alarm is None:
                continue
            if alarm.shelved_until is not None and alarm.shelved_until <= now + EPSILON:
                event = alarm.unshelve("")
                self._journal(alarm, event, now)
                out.append(AlarmUnshelved(alarm_id=alarm_id, point_id=alarm.point_id, user="", ts=now,
                                          state=alarm.state))
            if alarm_id in self.definitions:
                out += self._evaluate(alarm_id, now)
        for alarm_id, times in list(self._chatter.items()):
            while times and times[0] < now - self.chatter.window:
                times.popleft()
            alarm = self.alarms.get(alarm_id)
            if not times:
                del self._chatter[alarm_id]
                if alarm is not None:
                    alarm.chattering = False
        return out

    # ------------------------------------------------------------ evaluation
    def _lookup(self, point_id: str) -> Reading | None:
        return self.points.get(point_id)

    def _evaluate(self, alarm_id: str, now: float) -> list[Message]:
        out = self._decide(alarm_id, now)
        point_id = self.definitions[alarm_id].point
        band = self._plain.get(point_id)
        if band is not None:
            _band(band[2], band)
        return out

    def _decide(self, alarm_id: str, now: float) -> list[Message]:
        d = self.definitions[alarm_id]
        alarm = self.alarms[alarm_id]
        if not d.enabled:
            event = alarm.out_of_service()
            if event:
                self._journal(alarm, event, now)
            return []
        if alarm.state == OUT_OF_SERVICE:
            event = alarm.in_service()
            if event:
                self._journal(alarm, event, now)
        out: list[Message] = []
        if d.suppress is not None:
            held = self._suppressed(d, alarm, now)
            if held is None:  # the equipment's state is unknown: a suppressed alarm stays so
                if alarm.state == SUPPRESSED:
                    return out
            elif held:
                was_active = alarm.active and alarm.state in ANNUNCIATED
                if alarm.suppress():
                    self._journal(alarm, "suppressed", now)
                    if was_active:
                        out.append(AlarmCleared(alarm_id=alarm_id, point_id=d.point, ts=now, value=alarm.value,
                                                state=SUPPRESSED))
                return out
            elif alarm.state == SUPPRESSED:
                alarm.unsuppress()
                self._journal(alarm, "unsuppressed", now)
        view = self.points.get(d.point, _UNREAD)
        raw = in_alarm(d.condition, view, self._lookup, active=alarm.active, now=now,
                       changed_at=self.changed_at.get(d.point))
        return self._settle(d, alarm, view, raw, now, out)

    def _settle(self, d: AlarmDefinition, alarm: Alarm, view: Reading, raw: bool | None, now: float,
                out: list[Message]) -> list[Message]:
        """The condition's state now against the alarm's: a delay starts, runs on or ends; raised, cleared."""
        if raw is None or raw == alarm.active:
            alarm.pending_since = None
            self._schedule(d, alarm, view)
            return out
        if alarm.pending_since is None:
            alarm.pending_since = now
        delay = d.on_delay if raw else d.off_delay
        if now - alarm.pending_since + EPSILON < delay:
            self._due[d.id] = alarm.pending_since + delay
            return out
        alarm.pending_since = None
        if raw:
            out.append(self._raise(d, alarm, view, now))
        else:
            ack_required = self.classes.get(d.alarm_class, _DEFAULT_CLASS).ack_required
            alarm.clear(now, view.value, ack_required)
            self._journal(alarm, "cleared", now)
            out.append(AlarmCleared(alarm_id=d.id, point_id=d.point, ts=now, value=view.value, state=alarm.state))
        self._schedule(d, alarm, view)
        return out

    def _limit(self, point_id: str, change: PointValue, now: float) -> list[Message]:
        """A plain limit alarm's value left its band: the general path's decision, without its dispatch (an
        enabled, unsuppressed limit on a good float; anything else goes the general way)."""
        band = self._plain[point_id]
        limit: _Limit = band[2]
        alarm = limit.alarm
        value = change.value
        if type(value) is not float or value != value or alarm.state == OUT_OF_SERVICE:
            return self._evaluate(alarm.alarm_id, now)
        if limit.high:
            raw = value > (limit.clear_at if alarm.active else limit.raise_at)
        else:
            raw = value < (limit.clear_at if alarm.active else limit.raise_at)
        out = self._settle(self.definitions[alarm.alarm_id], alarm, change, raw, now, [])
        _band(limit, band)
        return out

    def _suppressed(self, d: AlarmDefinition, alarm: Alarm, now: float) -> bool | None:
        """True while the suppressing point says so or its settling time runs; None when unknown."""
        assert d.suppress is not None
        view = self.points.get(d.suppress.point)
        if view is None or not reliable(view):
            return None
        if same(view.value, d.suppress.when):
            alarm.settle_until = None
            return True
        if alarm.state != SUPPRESSED:
            return False
        if alarm.settle_until is None and d.suppress.settle > 0:
            alarm.settle_until = now + d.suppress.settle
        if alarm.settle_until is not None and now + EPSILON < alarm.settle_until:
            self._due[alarm.alarm_id] = alarm.settle_until
            return True
        alarm.settle_until = None
        return False

    def _schedule(self, d: AlarmDefinition, alarm: Alarm, view: Reading) -> None:
        """When the clock alone may change this alarm: a stale period, a change's hold."""
        cond = d.condition
        if isinstance(cond, StaleValue) and not alarm.active and view.ts > 0:
            self._due[d.id] = view.ts + cond.period + EPSILON
        elif isinstance(cond, ChangeOfState) and alarm.active:
            self._due[d.id] = self.changed_at.get(d.point, 0.0) + cond.hold + EPSILON
        if alarm.shelved_until is not None:
            self._due[d.id] = min(self._due.get(d.id, math.inf), alarm.shelved_until)

    def _raise(self, d: AlarmDefinition, alarm: Alarm, view: Reading, now: float) -> AlarmRaised:
        meta = self.meta(d.point) or PointMeta(d.point)
        cond = d.condition
        limit = cond.limit if isinstance(cond, (HighLimit, LowLimit)) else ""
        # the words of a condition, once per condition and unit (a profile's alarm is one object for all
        # its points); keyed by identity, checked against the object itself
        described = self._described.get(id(cond))
        if described is None or described[0] is not cond or described[1] != meta.unit:
            if len(self._described) >= 10_000:
                self._described.clear()
            described = self._described[id(cond)] = (cond, meta.unit, describe(cond, meta.unit))
        text = render(d.message, {"name": meta.name, "point": d.point, "value": view.value, "unit": meta.unit,
                                  "condition": described[2], "severity": d.severity, "limit": limit})
        alarm.activate(now, view.value, text)
        self._journal(alarm, "raised", now)
        return self._raised(alarm, d.severity, d.alarm_class, now, "bms")

    def _raised(self, alarm: Alarm, severity: str, alarm_class: str, now: float, source: str) -> AlarmRaised:
        raises = self._raises
        raises.append(now)
        while raises and raises[0] < now - self.flood.window:
            raises.popleft()
        times = self._chatter.get(alarm.alarm_id)
        if times is None:
            times = self._chatter[alarm.alarm_id] = deque()
        times.append(now)
        while times and times[0] < now - self.chatter.window:
            times.popleft()
        was_chattering = alarm.chattering
        alarm.chattering = len(times) >= self.chatter.count
        notify = alarm.state == UNACK and not was_chattering
        return AlarmRaised(alarm_id=alarm.alarm_id, point_id=alarm.point_id, severity=severity,
                           alarm_class=alarm_class, text=alarm.text, ts=now, value=alarm.value, state=alarm.state,
                           notify=notify, flood=len(raises) > self.flood.limit, chattering=alarm.chattering,
                           source=source)

    def _journal(self, alarm: Alarm, event: str, now: float, user: str = "") -> None:
        self.journal.append(AlarmEvent(ts=now, alarm_id=alarm.alarm_id, point_id=alarm.point_id, event=event,
                                       state=alarm.state, user=user, value=alarm.value, text=alarm.text))

    # ------------------------------------------------------------ devices
    def external(self, alarm_id: str, shown: External, active: bool, value: Value = None,
                 source: str = "device") -> list[Message]:
        """An alarm a device (or another engine, ``source``) reports itself (to normal: ``active`` False);
        same lifecycle as ours."""
        now = self.clock.now()
        self.external_alarms[alarm_id] = shown
        alarm = self.alarms.setdefault(alarm_id, Alarm(alarm_id, shown.point_id))
        if active and not alarm.active:
            alarm.activate(now, value, shown.text)
            self._journal(alarm, "raised", now)
            return [self._raised(alarm, shown.severity, "device", now, source)]
        if not active and alarm.active:
            alarm.clear(now, value, ack_required=True)
            self._journal(alarm, "cleared", now)
            return [AlarmCleared(alarm_id=alarm_id, point_id=shown.point_id, ts=now, value=value, state=alarm.state)]
        return []

    # ------------------------------------------------------------ operators
    def _alarm(self, alarm_id: str) -> Alarm:
        alarm = self.alarms.get(alarm_id)
        if alarm is None:
            raise NotFound(f"no alarm {alarm_id!r}")
        return alarm

    def acknowledge(self, alarm_ids: Iterable[str], user: str) -> list[Message]:
        """Acknowledge each named alarm (all or none: an unknown or normal one refuses the lot)."""
        now = self.clock.now()
        alarms = [self._alarm(alarm_id) for alarm_id in alarm_ids]
        for alarm in alarms:
            if alarm.state not in (UNACK, RTN_UNACK):
                raise AlarmRefused(f"alarm {alarm.alarm_id} is {alarm.state}: nothing to acknowledge")
        out: list[Message] = []
        for alarm in alarms:
            alarm.acknowledge(now, user)
            self._journal(alarm, "acknowledged", now, user)
            out.append(AlarmAcknowledged(alarm_id=alarm.alarm_id, point_id=alarm.point_id, user=user, ts=now,
                                         state=alarm.state))
        return out

    def unacknowledged(self, under: str | None = None, severity: str | None = None) -> list[str]:
        """Ids of the alarms waiting for an ack, filtered as :class:`ListAlarms` filters."""
        query = ListAlarms(active=True, under=under, severity=severity)
        return [v.alarm_id for v in self.views(query) if v.state in (UNACK, RTN_UNACK)]

    def shelve(self, alarm_id: str, until: float, reason: str, user: str) -> list[Message]:
        now = self.clock.now()
        alarm = self._alarm(alarm_id)
        alarm.shelve(now, until, reason, user)
        self._journal(alarm, "shelved", now, user)
        self._due[alarm_id] = min(self._due.get(alarm_id, math.inf), until)
        return [AlarmShelved(alarm_id=alarm_id, point_id=alarm.point_id, user=user, ts=now, until=until, reason=reason)]

    def unshelve(self, alarm_id: str, user: str) -> list[Message]:
        now = self.clock.now()
        alarm = self._alarm(alarm_id)
        alarm.unshelve(user)
        self._journal(alarm, "unshelved", now, user)
        out: list[Message] = [AlarmUnshelved(alarm_id=alarm_id, point_id=alarm.point_id, user=user, ts=now,
                                             state=alarm.state)]
        if alarm_id in self.definitions:
            out += self._evaluate(alarm_id, now)
        return out

    # ------------------------------------------------------------ reading
    def view(self, alarm_id: str) -> AlarmView:
        alarm = self._alarm(alarm_id)
        d = self.definitions.get(alarm_id)
        ext = self.external_alarms.get(alarm_id)
        severity = d.severity if d is not None else ext.severity if ext is not None else "medium"
        return AlarmView(
            alarm_id=alarm_id, point_id=alarm.point_id, severity=severity,
            alarm_class=d.alarm_class if d is not None else "device", state=alarm.state, active=alarm.active,
            acked=alarm.acked, text=alarm.text, value=alarm.value, raised_at=alarm.raised_at,
            cleared_at=alarm.cleared_at, acked_at=alarm.acked_at, acked_by=alarm.acked_by,
            shelved_until=alarm.shelved_until, shelved_by=alarm.shelved_by, shelve_reason=alarm.shelve_reason,
            chattering=alarm.chattering, raised_count=alarm.raised_count,
            source="bms" if d is not None else "device",
        )

    def views(self, query: ListAlarms) -> list[AlarmView]:
        if query.severity is not None and query.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {query.severity!r} (one of {', '.join(SEVERITIES)})")
        out: list[AlarmView] = []
        for alarm_id in sorted(self.alarms):
            view = self.view(alarm_id)
            if query.active and view.state == "normal":
                continue
            if query.severity is not None and view.severity != query.severity:
                continue
            if query.under is not None and not self._under(view.point_id, query.under):
                continue
            out.append(view)
        return out

    def _under(self, point_id: str, node: str) -> bool:
        if point_id == node or point_id.startswith(node + "/"):
            return True
        meta = self.meta(point_id)
        return meta is not None and node in meta.ancestors

    def counts(self) -> dict[str, int]:
        """How many alarms are in each state (the shell's toolbar)."""
        found: dict[str, int] = {}
        for alarm in self.alarms.values():
            found[alarm.state] = found.get(alarm.state, 0) + 1
        return found

