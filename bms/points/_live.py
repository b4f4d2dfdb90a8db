"""LivePoints: the point database of a running site, as one plain object.

It joins what the point store actor owns -- the :class:`PointTable` (values
and status), the :class:`CommandTable` (priority arrays and timed
overrides), the :class:`WriteGuard` and :class:`OverrideStore` -- and the
point nodes' descriptions, and turns every input into the messages to
publish. No threads: the actor calls it and publishes what it returns.

Commands follow one model for every protocol: a write is checked by the
guards, lands in the point's priority array (persisted), and when the
effective value changes the point is *driven*: a virtual point takes the
effective value at once; a device point gets a ``DeviceWrite`` of the
effective value at its command priority. Once every level is relinquished,
a BACnet point is relinquished on the device too (``None``: the device's
own priority array decides), a Modbus point gets its relinquish default.
A point whose array holds any level carries the ``overridden`` flag.

Commands are re-asserted: on load (a restart of the daemon or of the point
store), when a device comes back up, and when its bridge says it answers
after a time it may have forgotten them (:meth:`LivePoints.reassert`: its
first answer since the bridge started, an answer after a gap, a detected
restart), each of the device's commanded points is sent its effective
value again. ``command_settle`` seconds after a command was sent, the value
the device reports is compared with it (:mod:`._mismatch`): a point whose
device holds something else carries the ``mismatch`` flag (``command
mismatch: commanded 24, the device reports 22``) until it agrees.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from bms.clock import Clock
from bms.config import PointSpec
from bms.errors import NotFound, StoreError
from bms.messages import (
    DeviceWrite,
    ListPoints,
    Message,
    PointState,
    PriorityArrayView,
    Readings,
    RelinquishPoint,
    Sample,
    Value,
    ValueChanged,
    WriteAccepted,
    WritePoint,
    WriteResult,
)
from bms.points._commands import Commanded, CommandTable, Override, Planned
from bms.points._guard import WriteGuard
from bms.points._mismatch import COMMAND_SETTLE, CommandCheck, agrees, resolution
from bms.points._overrides import GUARD_KEEP, OverrideStore
from bms.points._table import PointTable


@dataclass(frozen=True, slots=True)
class PointInfo:
    """What the point store shows of a point beside its value."""

    point_id: str
    spec: PointSpec
    device: str
    protocol: str  # bacnet | modbus | virtual
    ancestors: frozenset[str] = frozenset()  # node ids above the point (equip, spaces, site)
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def virtual(self) -> bool:
        return self.protocol == "virtual"


class LivePoints:
    """Values, status and commands of every point; each call returns the messages to publish."""

    def __init__(self, clock: Clock, overrides: OverrideStore | None = None, source: str = "points",
                 command_settle: float = COMMAND_SETTLE) -> None:
        self.clock = clock
        self.checks = CommandCheck(command_settle)
        self.overrides = overrides
        self.source = source
        self.table = PointTable()
        self.commands = CommandTable(clock)
        self.info: dict[str, PointInfo] = {}
        self.guard = WriteGuard({})
        self.skipped_overrides = 0
        self.problem: str | None = None  # why overrides.db could not be written at the last housekeeping
        self.expired: list[Override] = []  # the timed levels the last housekeeping expired (for the log)

    # ------------------------------------------------------------- points
    def load(self, points: Iterable[PointInfo]) -> list[Message]:
        """Hold ``points`` (again: update them); restore their overrides; set virtual initial values."""
        added = [p for p in points]
        for info in added:
            spec = info.spec
            self.info[info.point_id] = info
            self.table.add(info.point_id, spec.kind, spec.cov_increment, spec.stale_after)
            if spec.writable:
                self.commands.add(info.point_id, spec.relinquish_default)
        self.guard = WriteGuard({pid: i.spec for pid, i in self.info.items()})
        now = self.clock.now()
        if self.overrides is not None:
            skipped = self.commands.restore(self.overrides.load(now), now)
            self.skipped_overrides = len(skipped)
            self.guard.restore(self.overrides.guard_writes(now - GUARD_KEEP))
        out: list[Message] = []
        samples: list[Sample] = []
        for info in added:
            if info.virtual:
                samples.append(Sample(info.point_id, self._virtual_value(info), now))
        out += self._apply(samples, self.source)
        for info in added:
            if info.spec.writable:
                out += self._overridden_flag(info.point_id, now)
                if self._commanded(info):
                    out += self._send(info)  # re-assert what was commanded before a restart
        return out

    def _commanded(self, info: PointInfo | None) -> bool:
        """A device point that holds a command now."""
        return (info is not None and not info.virtual and info.point_id in self.commands
                and self.commands.active_priority(info.point_id) is not None)

    def remove(self, point_ids: Iterable[str]) -> list[str]:
        """Forget ``point_ids`` (a removed device's): values, status, commands and their stored levels."""
        gone = [pid for pid in point_ids if pid in self.info]
        doomed = set(gone)
        levels = [o for o in self.commands.snapshot() if o.point_id in doomed]
        if self.overrides is not None:
            for level in levels:
                self.overrides.remove(level.point_id, level.priority)
        for pid in gone:
            self.table.remove(pid)
            self.commands.remove(pid)
            self.checks.forget(pid)
            del self.info[pid]
        if gone:
            self.guard = WriteGuard({pid: i.spec for pid, i in self.info.items()})
        return gone

    def _virtual_value(self, info: PointInfo) -> Value:
        if info.spec.writable and info.point_id in self.commands:
            effective = self.commands.effective(info.point_id)
            if effective is not None:
                return effective
        return info.spec.virtual.initial if info.spec.virtual is not None else None

    def _info(self, point_id: str) -> PointInfo:
        info = self.info.get(point_id)
        if info is None:
            raise NotFound(f"unknown point {point_id!r}")
        return info

    # ------------------------------------------------------------- samples
    def _apply(self, samples: Iterable[Sample], source: str, readings: Iterable[Readings] = ()) -> list[Message]:
        values, statuses = self.table.apply(samples, readings)
        out: list[Message] = list(statuses)
        if values:
            out.append(ValueChanged(values=tuple(values), source=source))
        return out

    def samples(self, samples: Iterable[Sample], source: str, readings: Iterable[Readings] = ()) -> list[Message]:
        """A bridge's batch: the ValueChanged of what passed the COV filter, and status changes."""
        return self._apply(samples, source, readings)

    def device_down(self, device: str, down: bool, reason: str = "") -> list[Message]:
        """Flag (or clear) ``down`` on the device's points; a device back up gets its commands again.

        A device that was down may have restarted and forgotten what it was
        commanded: each of its points that holds a command is re-sent its
        effective value (a DeviceWrite with an id of its own).
        """
        ids = self.table.ids(device + "/")
        flagged = self.table.set_flags(ids, "down", down, reason, ts=self.clock.now())
        changes: list[Message] = list(flagged)
        if not down:
            changes += self._reassert(change.point_id for change in flagged)
        return changes

    def reassert(self, device: str) -> list[Message]:
        """Send each commanded point of ``device`` its effective value again (it may have forgotten it)."""
        return self._reassert(self.table.ids(device + "/"))

    def _reassert(self, point_ids: Iterable[str]) -> list[Message]:
        out: list[Message] = []
        for point_id in point_ids:
            info = self.info.get(point_id)
            if info is not None and self._commanded(info):
                out += self._send(info)
        return out

    def housekeeping(self) -> list[Message]:
        """Expire timed overrides (driving what changed) and flag stale points.

        An expiry is removed from overrides.db before it takes effect; when
        the file cannot be written the levels stay (and :attr:`problem` says
        why) until a later call succeeds, so memory and disk never disagree.
        """
        now = self.clock.now()
        out: list[Message] = list(self.table.mark_stale(now))
        if self.commands.expiring(now) and self.overrides is not None:
            try:
                self.overrides.purge(now)
            except StoreError as err:
                self.problem = str(err)
                return out
        self.problem = None
        self.expired = []
        changed = self.commands.expire(now, self.expired)
        for point_id in changed:
            out += self._drive(point_id, now)
            out += self._overridden_flag(point_id, now)
        out += self._compare(now)
        return out

    def _compare(self, now: float) -> list[Message]:
        """Flag (or clear) ``mismatch`` on the commanded points whose settling time has passed.

        A point is compared once the device has reported a value since the
        command was sent, and while that value is good (not down, faulted or
        stale: then nothing is known of it).
        """
        out: list[Message] = []
        for point_id, sent_at in self.checks.due(now):
            pv = self.table.get(point_id)
            if pv.ts < sent_at or "down" in pv.flags or "fault" in pv.flags or "stale" in pv.flags:
                continue
            info = self.info[point_id]
            commanded = self.commands.effective(point_id)
            if agrees(commanded, pv.value, resolution(info.spec)):
                change = self.table.set_flag(point_id, "mismatch", False, "the device reports its command", ts=now)
            else:
                reason = (f"command mismatch: commanded {_shown(commanded)}, the device reports {_shown(pv.value)}"
                          f" ({self.checks.settle:g} s after the command)")
                change = self.table.set_flag(point_id, "mismatch", True, reason, ts=now)
            if change is not None:
                out.append(change)
        return out

    # ------------------------------------------------------------- commands
    def write(self, command: WritePoint) -> tuple[WriteAccepted, list[Message]]:
        """Check the guards, persist the level, then hold it and drive the point if its effective value moved.

        A write that cannot be persisted raises :class:`StoreError` and
        changes nothing: not the array, not the rate budget.
        """
        info = self._info(command.point_id)
        now = self.clock.now()
        self.guard.check(info.point_id, command.value, now, self.table.current)
        planned = self.commands.plan(info.point_id, command.value, command.priority, command.duration, command.user)
        counted = command.value is not None and self.guard.rate_limited(info.point_id)
        self._persist(planned, now if counted else None)
        if counted:
            self.guard.accepted(info.point_id, now)
        return self._command(self.commands.apply(planned), now, command.request_id)

    def relinquish(self, command: RelinquishPoint) -> tuple[WriteAccepted, list[Message]]:
        """Clear one level; a level that held nothing is said so (``level_was_empty``)."""
        info = self._info(command.point_id)
        now = self.clock.now()
        self.guard.check(info.point_id, None, now, self.table.current)
        planned = self.commands.plan(info.point_id, None, command.priority)
        empty = self.commands.array(info.point_id).levels()[command.priority - 1] is None
        self._persist(planned, None)
        accepted, out = self._command(self.commands.apply(planned), now, command.request_id)
        return (msgspec.structs.replace(accepted, level_was_empty=True) if empty else accepted), out

    def _persist(self, planned: Planned, counted_at: float | None) -> None:
        if self.overrides is not None:
            self.overrides.commit(planned.point_id, planned.priority, planned.level, counted_at)

    def _command(self, done: Commanded, now: float, request_id: str) -> tuple[WriteAccepted, list[Message]]:
        out: list[Message] = []
        if done.changed:
            out += self._drive(done.point_id, now, request_id)
        out += self._overridden_flag(done.point_id, now)
        request = next((m.request_id for m in out if isinstance(m, DeviceWrite)), None)
        accepted = WriteAccepted(
            point_id=done.point_id, effective=done.effective, active_priority=done.active_priority,
            priority=done.priority, expires_at=done.expires_at, request_id=request,
        )
        return accepted, out

    def _drive(self, point_id: str, now: float, request_id: str = "") -> list[Message]:
        info = self.info[point_id]
        if info.virtual:
            return self._apply([Sample(point_id, self._virtual_value(info), now)], self.source)
        return self._send(info, request_id)

    def _send(self, info: PointInfo, request_id: str = "") -> list[Message]:
        """The DeviceWrite of the point's effective value; its check starts again (or ends: released)."""
        write = self._device_write(info, request_id)
        point_id = info.point_id
        now = self.clock.now()
        if self.commands.active_priority(point_id) is not None:
            self.checks.sent(point_id, now)
            return [write]
        self.checks.forget(point_id)
        cleared = self.table.set_flag(point_id, "mismatch", False, "released", ts=now)
        return [write] if cleared is None else [write, cleared]

    def _device_write(self, info: PointInfo, request_id: str = "") -> DeviceWrite:
        """The effective value at the point's command priority.

        A BACnet device has a priority array of its own: once every level here
        is relinquished we relinquish ours there too (``None``), so the device's
        own relinquish default and other clients' levels apply. A Modbus
        register has no such thing: it gets the relinquish default written.
        ``request_id`` is the command's; a write of our own (an expiry, a
        re-assert) gets a fresh one, unique across restarts.
        """
        point_id = info.point_id
        released = self.commands.active_priority(point_id) is None
        value = None if released and info.protocol == "bacnet" else self.commands.effective(point_id)
        return DeviceWrite(point_id=point_id, value=value, priority=info.spec.command_priority,
                           request_id=request_id or uuid.uuid4().hex)

    def _overridden_flag(self, point_id: str, now: float) -> list[Message]:
        held = self.commands.active_priority(point_id) is not None
        reason = f"commanded at priority {self.commands.active_priority(point_id)}" if held else "released"
        change = self.table.set_flag(point_id, "overridden", held, reason, ts=now)
        return [change] if change is not None else []

    def write_result(self, result: WriteResult) -> list[Message]:
        """A bridge's answer: a failure flags the point; a readback updates its value."""
        if result.point_id not in self.info:
            return []
        now = self.clock.now()
        if not result.ok:
            change = self.table.set_flag(result.point_id, "fault", True, f"write failed: {result.error}", ts=now)
            return [change] if change is not None else []
        if result.readback is not None:
            return self._apply([Sample(result.point_id, result.readback, now)], self.source)
        return []

    # ------------------------------------------------------------- reading
    def state(self, point_id: str) -> PointState:
        info = self._info(point_id)
        pv = self.table.get(point_id)
        spec = info.spec
        return PointState(
            point_id=point_id, name=spec.name, value=pv.value, ts=pv.ts or None, flags=pv.flags,
            device_flags=self.table.device_flags(point_id), unit=spec.unit, kind=spec.kind, writable=spec.writable,
            active_priority=self.commands.active_priority(point_id) if spec.writable else None,
            device=info.device, reason=self.table.reason(point_id),
        )

    def states(self, query: ListPoints) -> list[PointState]:
        found: Iterable[PointInfo] = self.info.values()
        if query.under is not None:
            under = query.under
            if under not in self.info and not any(under in i.ancestors for i in self.info.values()):
                raise NotFound(f"unknown node {under!r} (no points under it)")
            found = [i for i in found if under in i.ancestors or i.point_id == under]
        if query.tags:
            wanted = set(query.tags)
            found = [i for i in found if wanted <= i.tags]
        if query.pattern:
            pattern = query.pattern
            found = [i for i in found if fnmatch.fnmatchcase(i.point_id, pattern)]
        return [self.state(i.point_id) for i in sorted(found, key=lambda i: i.point_id)]

    def priority_array(self, point_id: str) -> PriorityArrayView:
        self._info(point_id)
        return self.commands.view(point_id)

    def values(self) -> dict[str, Value]:
        return {pv.point_id: pv.value for pv in self.table.snapshot()}


def _shown(value: Value) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value) if isinstance(value, str) else str(value)
