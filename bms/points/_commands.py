"""The command table: every writable point's priority array and timed overrides.

A write with a ``duration`` is a timed override: its level relinquishes
itself at ``now + duration`` when :meth:`CommandTable.expire` runs at or after
that time, and the next level (or the relinquish default) takes over. Each
call says whether the effective value changed, so the caller knows whether
the device must be written. The table is plain state: an actor owns it,
persists it through :class:`~bms.points.OverrideStore` and drives ``expire``
from its ticks.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable

import msgspec

from bms.clock import Clock
from bms.errors import NotFound, WriteRefused
from bms.messages import PriorityArrayView, Value
from bms.points._priority import LEVELS, PriorityArray, check_priority


class Override(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One non-null level of a priority array, as persisted."""

    point_id: str
    priority: int
    value: Value
    expires_at: float | None = None
    user: str = ""
    written_at: float = 0.0


class Commanded(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Outcome of a write or relinquish at one level.

    ``changed`` tells whether the effective value moved (then write the
    device); ``override`` is the level now held (``None``: relinquished).
    """

    point_id: str
    priority: int
    effective: Value
    active_priority: int | None
    changed: bool
    expires_at: float | None = None
    override: Override | None = None


class Planned(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A checked write, not yet carried out: the level it will hold (``None``: relinquished)."""

    point_id: str
    priority: int
    level: Override | None


class _Entry:
    """One writable point: its priority array and, for the levels that hold a value, who wrote it, when,
    and when it expires. Most points of a site hold no level: their ``meta`` is None (no per-level
    lists for 100,000 points)."""

    __slots__ = ("array", "meta")

    def __init__(self, point_id: str, relinquish_default: Value) -> None:
        self.array = PriorityArray(point_id, relinquish_default)
        self.meta: dict[int, tuple[float | None, str, float]] | None = None  # level index -> (expires, user, at)

    def expires(self, i: int) -> float | None:
        meta = self.meta
        found = meta.get(i) if meta else None
        return found[0] if found else None

    def set_level(self, i: int, expires: float | None, user: str, written: float) -> None:
        if self.meta is None:
            self.meta = {}
        self.meta[i] = (expires, user, written)

    def clear_level(self, i: int) -> None:
        meta = self.meta
        if meta:
            meta.pop(i, None)
            if not meta:
                self.meta = None

    def expiries(self) -> tuple[float | None, ...]:
        return tuple(self.expires(i) for i in range(LEVELS))

    def users(self) -> tuple[str, ...]:
        meta = self.meta or {}
        return tuple(meta[i][1] if i in meta else "" for i in range(LEVELS))

    def override(self, priority: int) -> Override | None:
        i = priority - 1
        value = self.array.value_at(priority)
        if value is None:
            return None
        expires, user, written = (self.meta or {}).get(i, (None, "", 0.0))
        return Override(
            point_id=self.array.point_id, priority=priority, value=value,
            expires_at=expires, user=user, written_at=written,
        )


class CommandTable:
    """Priority arrays of all writable points, with timed overrides on ``clock``."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._expiry: list[tuple[float, str, int]] = []  # heap; stale items skipped

    # ------------------------------------------------------------ points
    def add(self, point_id: str, relinquish_default: Value = None) -> None:
        """Register a writable point (again: update its relinquish default, keep its levels)."""
        entry = self._entries.get(point_id)
        if entry is None:
            self._entries[point_id] = _Entry(point_id, relinquish_default)
        else:
            entry.array.relinquish_default = relinquish_default

    def remove(self, point_id: str) -> None:
        """Forget a point and its levels."""
        self._entries.pop(point_id, None)

    def __contains__(self, point_id: object) -> bool:
        return point_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def point_ids(self) -> list[str]:
        return list(self._entries)

    def _entry(self, point_id: str) -> _Entry:
        entry = self._entries.get(point_id)
        if entry is None:
            raise WriteRefused(point_id, "not a writable point", guard="not-writable")
        return entry

    # ------------------------------------------------------------ commands
    def plan(
        self, point_id: str, value: Value, priority: int = 8, duration: float | None = None, user: str = ""
    ) -> Planned:
        """Check a write of ``value`` at ``priority`` and say what it would hold; nothing changes yet.

        ``None`` relinquishes; ``duration`` (s) makes it expire. The caller
        persists :attr:`Planned.level`, then :meth:`apply` makes it so: a
        write that cannot be made durable changes nothing anywhere.
        """
        self._entry(point_id)
        check_priority(point_id, priority)
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, int | float)
            or not math.isfinite(duration) or duration <= 0
        ):
            raise WriteRefused(point_id, f"duration {duration!r} must be a positive number of seconds", guard="duration")
        now = self._clock.now()
        expires_at = now + duration if duration is not None and value is not None else None
        level = None if value is None else Override(
            point_id=point_id, priority=priority, value=value, expires_at=expires_at, user=user, written_at=now)
        return Planned(point_id=point_id, priority=priority, level=level)

    def apply(self, planned: Planned) -> Commanded:
        """Carry out a planned write (after it was persisted)."""
        entry = self._entry(planned.point_id)
        before = entry.array.effective
        level, priority = planned.level, planned.priority
        i = priority - 1
        entry.array.write(priority, None if level is None else level.value)
        if level is None:
            entry.clear_level(i)
        else:
            entry.set_level(i, level.expires_at, level.user, level.written_at)
        if level is not None and level.expires_at is not None:
            heapq.heappush(self._expiry, (level.expires_at, planned.point_id, priority))
        return self._outcome(entry, priority, before)

    def write(
        self, point_id: str, value: Value, priority: int = 8, duration: float | None = None, user: str = ""
    ) -> Commanded:
        """Write ``value`` at ``priority`` at once (plan and apply); ``None`` relinquishes."""
        return self.apply(self.plan(point_id, value, priority, duration, user))

    def relinquish(self, point_id: str, priority: int = 8) -> Commanded:
        """Clear one level."""
        return self.write(point_id, None, priority)

    def _outcome(self, entry: _Entry, priority: int, before: Value) -> Commanded:
        after = entry.array.effective
        return Commanded(
            point_id=entry.array.point_id, priority=priority, effective=after,
            active_priority=entry.array.active_priority, changed=not _same(before, after),
            expires_at=entry.expires(priority - 1), override=entry.override(priority),
        )

    def expire(self, now: float | None = None, expired: list[Override] | None = None) -> list[str]:
        """Relinquish every timed level due by ``now``; the points whose effective value changed.

        The levels that expired are appended to ``expired`` when given.
        """
        t = self._clock.now() if now is None else now
        before: dict[str, Value] = {}
        while self._expiry and self._expiry[0][0] <= t:
            due, point_id, priority = heapq.heappop(self._expiry)
            entry = self._entries.get(point_id)
            if entry is None or entry.expires(priority - 1) != due:
                continue  # relinquished, rewritten or removed since
            before.setdefault(point_id, entry.array.effective)
            if expired is not None and (level := entry.override(priority)) is not None:
                expired.append(level)
            entry.array.relinquish(priority)
            entry.clear_level(priority - 1)
        return [pid for pid, value in before.items() if not _same(value, self._entries[pid].array.effective)]

    def expiring(self, now: float | None = None) -> bool:
        """Whether a timed level is due by ``now`` (persist its removal first, then :meth:`expire`)."""
        due = self.next_expiry()
        return due is not None and due <= (self._clock.now() if now is None else now)

    def next_expiry(self) -> float | None:
        """When the next timed level is due, or ``None``."""
        heap = self._expiry
        while heap:
            due, point_id, priority = heap[0]
            entry = self._entries.get(point_id)
            if entry is not None and entry.expires(priority - 1) == due:
                return due
            heapq.heappop(heap)
        return None

    # ------------------------------------------------------------ reading
    def array(self, point_id: str) -> PriorityArray:
        """The point's priority array (read it; write through the table)."""
        return self._entry(point_id).array

    def effective(self, point_id: str) -> Value:
        return self._entry(point_id).array.effective

    def active_priority(self, point_id: str) -> int | None:
        return self._entry(point_id).array.active_priority

    def view(self, point_id: str) -> PriorityArrayView:
        """The point's levels, expiries and users as the API shows them."""
        entry = self._entries.get(point_id)
        if entry is None:
            raise NotFound(f"no priority array for {point_id!r}: not a writable point")
        return PriorityArrayView(
            point_id=point_id, levels=entry.array.levels(), expires=entry.expiries(),
            users=entry.users(), effective=entry.array.effective,
            active_priority=entry.array.active_priority, relinquish_default=entry.array.relinquish_default,
        )

    # ------------------------------------------------------------ state
    def snapshot(self) -> list[Override]:
        """Every non-null level, point by point, highest priority first."""
        found: list[Override] = []
        for entry in self._entries.values():
            for priority in range(1, LEVELS + 1):
                record = entry.override(priority)
                if record is not None:
                    found.append(record)
        return found

    def restore(self, overrides: Iterable[Override], now: float | None = None) -> list[Override]:
        """Replace every level with ``overrides``; returns those skipped (unknown point, bad priority, expired)."""
        t = self._clock.now() if now is None else now
        for entry in self._entries.values():
            for priority in range(1, LEVELS + 1):
                entry.array.relinquish(priority)
            entry.meta = None
        self._expiry = []
        skipped: list[Override] = []
        for record in overrides:
            target = self._entries.get(record.point_id)
            expired = record.expires_at is not None and record.expires_at <= t
            if target is None or record.value is None or expired or not 1 <= record.priority <= LEVELS:
                skipped.append(record)
                continue
            i = record.priority - 1
            target.array.write(record.priority, record.value)
            target.set_level(i, record.expires_at, record.user, record.written_at)
            if record.expires_at is not None:
                heapq.heappush(self._expiry, (record.expires_at, record.point_id, record.priority))
        return skipped


def _same(a: Value, b: Value) -> bool:
    """Equal values of the same type (``1`` and ``True`` differ on the wire)."""
    return type(a) is type(b) and a == b
