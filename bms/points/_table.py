"""The live point database: current value, timestamp and status of every point.

:meth:`PointTable.apply` takes a bridge's batch of samples and returns what
to publish: the values that passed the COV filter and the status changes.

* COV: a number publishes when it moved by at least its ``cov_increment``
  from the last *published* value (so slow drift still publishes); any change
  publishes for bool, enum and text points, and for numbers without an
  increment. The first value of a point always publishes.
* A sample carrying ``fault`` sets the fault flag with that reason and keeps
  the last value; the next good sample clears it and publishes.
* A point not updated within its ``stale_after`` becomes stale at
  :meth:`PointTable.mark_stale`; the next good sample clears it and publishes.
  A point never heard from counts from the first ``mark_stale`` call.
* Samples for unknown points, and samples older than the point's current
  value, are counted and ignored.
* ``alarm``, ``down``, ``overridden`` and ``disabled`` are set by their owners
  through :meth:`PointTable.set_flag`; they are status only and never block a
  value.
* The *device's* status flags (BACnet's in-alarm, fault, overridden,
  out-of-service) come with a sample (``Sample.device_flags``) and are kept
  apart from ours (:meth:`PointTable.device_flags`): a device in alarm does
  not raise our alarm. A change of them is a status change; a sample that
  failed says nothing of them and leaves them; columns of readings carry
  them as a column (``Readings.device_flags``, BACnet polls) or not at all
  (``None``: Modbus registers, which have none, never touch them and cost
  that path nothing). Every StatusChanged carries the device's flags as
  they are.

``get`` and ``snapshot`` show the latest good reading; the COV reference is
kept apart. One ``__slots__`` record per point keeps 100,000 points in a few
tens of MB.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping

from bms.config import PointSpec
from bms.errors import NotFound
from bms.messages import STATUS_FLAGS, PointValue, Readings, Sample, StatusChanged, Value

BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(STATUS_FLAGS)}
_FAULT = BITS["fault"]
_STALE = BITS["stale"]
_UNRELIABLE = _FAULT | _STALE | BITS["down"]
_NUMBERS = (int, float)
_ROW = operator.attrgetter("point_id", "value", "ts", "fault")
_DEVICE_FLAGS = operator.attrgetter("device_flags")
_FLAGGED = operator.attrgetter("point_id", "device_flags", "ts", "fault")
_FLAGS: tuple[tuple[str, ...], ...] = tuple(
    tuple(name for name in STATUS_FLAGS if mask & BITS[name]) for mask in range(1 << len(STATUS_FLAGS))
)


class _Point:
    __slots__ = ("cov", "device_flags", "flags", "has_value", "kind", "point_id", "reason", "ref", "seen", "stale_after",
                 "ts", "value")

    def __init__(self, point_id: str, kind: str, cov: float, stale_after: float | None) -> None:
        self.point_id = point_id
        self.kind = kind
        self.cov = cov if kind == "number" else 0.0
        self.stale_after = stale_after
        self.value: Value = None
        self.ref: Value = None  # last published value (the COV reference)
        self.ts = 0.0
        self.seen: float | None = None  # last good sample, for staleness
        self.has_value = False
        self.flags = 0
        self.reason = ""
        self.device_flags: tuple[str, ...] = ()

    def status(self, ts: float, reason: str) -> StatusChanged:
        return StatusChanged(self.point_id, _FLAGS[self.flags], ts, reason, self.device_flags)

    def as_value(self) -> PointValue:
        return PointValue(self.point_id, self.value, self.ts, _FLAGS[self.flags])


class PointTable:
    """Every point's live value and status flags."""

    def __init__(self) -> None:
        self._points: dict[str, _Point] = {}
        self._watched: dict[str, _Point] = {}  # points with stale_after
        self._sorted: list[str] | None = None  # ids for prefix lookup, rebuilt lazily
        self._device_flagged = 0  # points whose device reports flags now: while none is, batches skip the check
        self.ignored_unknown = 0
        """Samples for point ids the table does not hold."""
        self.ignored_old = 0
        """Samples older than the point's current value."""

    @classmethod
    def from_specs(cls, points: Mapping[str, PointSpec]) -> PointTable:
        """A table holding ``points`` (point id -> spec)."""
        table = cls()
        for point_id, spec in points.items():
            table.add(point_id, spec.kind, spec.cov_increment, spec.stale_after)
        return table

    # -------------------------------------------------------------- points
    def add(self, point_id: str, kind: str = "number", cov_increment: float = 0.0, stale_after: float | None = None) -> None:
        """Hold a point; adding it again updates its spec and keeps its value."""
        point = self._points.get(point_id)
        if point is None:
            point = _Point(point_id, kind, cov_increment, stale_after)
            self._points[point_id] = point
            self._sorted = None
        else:
            point.kind = kind
            point.cov = cov_increment if kind == "number" else 0.0
            point.stale_after = stale_after
        if stale_after is not None:
            self._watched[point_id] = point
        else:
            self._watched.pop(point_id, None)

    def remove(self, point_id: str) -> None:
        point = self._points.pop(point_id, None)
        if point is not None:
            self._sorted = None
            self._watched.pop(point_id, None)
            self._device_flagged -= bool(point.device_flags)

    def __contains__(self, point_id: object) -> bool:
        return point_id in self._points

    def __len__(self) -> int:
        return len(self._points)

    # -------------------------------------------------------------- samples
    def apply(self, samples: Iterable[Sample], readings: Iterable[Readings] = ()) -> tuple[list[PointValue], list[StatusChanged]]:
        """Take a batch of samples and columns of good readings; the values and status changes to publish."""
        points = self._points
        flag_names = _FLAGS
        values: list[PointValue] = []
        statuses: list[StatusChanged] = []
        if not isinstance(samples, (tuple, list)):
            samples = list(samples)  # read twice: values first, then the device's flags
        if not isinstance(readings, (tuple, list)):
            readings = list(readings)
        rows = itertools.chain(  # (point id, value, ts, fault) tuples, made in C
            *(zip(r.point_ids, r.values, itertools.repeat(r.ts), itertools.repeat(None)) for r in readings),
            map(_ROW, samples),
        )
        for point_id, value, ts, fault in rows:
            point = points.get(point_id)
            if point is None:
                self.ignored_unknown += 1
                continue
            if ts < point.ts:
                self.ignored_old += 1
                continue
            if fault is not None:
                if not point.flags & _FAULT or point.reason != fault:
                    point.flags |= _FAULT
                    point.reason = fault
                    statuses.append(point.status(ts, fault))
                continue
            point.value = value
            point.ts = ts
            point.seen = ts
            flags = point.flags
            if flags & (_FAULT | _STALE):
                reason = "fault cleared" if flags & _FAULT else "updated again"
                flags &= ~(_FAULT | _STALE)
                point.flags = flags
                if not flags:
                    point.reason = ""
                statuses.append(point.status(ts, reason))
            elif point.has_value:
                ref = point.ref
                if value == ref:
                    continue
                if point.cov and isinstance(value, _NUMBERS) and isinstance(ref, _NUMBERS):
                    if abs(value - ref) < point.cov or (value != value and ref != ref):  # NaN stays NaN
                        continue
                elif value != value and ref != ref:
                    continue
            else:
                point.has_value = True
            point.ref = value
            values.append(PointValue(point.point_id, value, ts, flag_names[flags]))
        for r in readings:  # the device's own flags, apart from ours (the any() runs in C)
            if r.device_flags is not None and (self._device_flagged or any(r.device_flags)):
                self._device_flags(zip(r.point_ids, r.device_flags, itertools.repeat(r.ts),
                                       itertools.repeat(None)), statuses)
        if samples and (self._device_flagged or any(map(_DEVICE_FLAGS, samples))):
            self._device_flags(map(_FLAGGED, samples), statuses)
        return values, statuses

    def _device_flags(self, rows: Iterable[tuple[str, tuple[str, ...], float, str | None]],
                      statuses: list[StatusChanged]) -> None:
        points = self._points
        for point_id, flagged, ts, fault in rows:
            point = points.get(point_id)
            if point is None or flagged == point.device_flags or ts < point.ts:
                continue
            if fault is not None and not flagged:
                continue  # a read that failed says nothing of them
            self._device_flagged += bool(flagged) - bool(point.device_flags)
            point.device_flags = flagged
            statuses.append(point.status(ts, f"device flags: {', '.join(flagged) or 'none'}"))

    def mark_stale(self, now: float) -> list[StatusChanged]:
        """Flag points not updated within their ``stale_after``; the status changes."""
        statuses: list[StatusChanged] = []
        for point in self._watched.values():
            if point.flags & _STALE:
                continue
            seen = point.seen
            if seen is None:
                point.seen = now
                continue
            limit = point.stale_after
            if limit is not None and now - seen > limit:
                point.flags |= _STALE
                point.reason = f"no update for {now - seen:.0f} s (stale after {limit:g} s)"
                statuses.append(point.status(now, point.reason))
        return statuses

    # -------------------------------------------------------------- flags
    def set_flag(self, point_id: str, flag: str, on: bool, reason: str = "", *, ts: float) -> StatusChanged | None:
        """Set or clear one status flag; the status change, or ``None`` if nothing changed."""
        bit = BITS.get(flag)
        if bit is None:
            raise ValueError(f"unknown status flag {flag!r} (one of {', '.join(STATUS_FLAGS)})")
        point = self._point(point_id)
        flags = point.flags | bit if on else point.flags & ~bit
        if flags == point.flags:
            return None
        point.flags = flags
        point.reason = reason if flags else ""
        return point.status(ts, reason)

    def set_flags(self, point_ids: Iterable[str], flag: str, on: bool, reason: str = "", *, ts: float) -> list[StatusChanged]:
        """:meth:`set_flag` on many points (e.g. every point of a device that went down)."""
        found = (self.set_flag(p, flag, on, reason, ts=ts) for p in point_ids if p in self._points)
        return [s for s in found if s is not None]

    # -------------------------------------------------------------- reading
    def _point(self, point_id: str) -> _Point:
        point = self._points.get(point_id)
        if point is None:
            raise NotFound(f"unknown point {point_id!r}")
        return point

    def get(self, point_id: str) -> PointValue:
        """The latest good value of a point (``ts`` 0.0 if never read) and its flags."""
        return self._point(point_id).as_value()

    def device_flags(self, point_id: str) -> tuple[str, ...]:
        """The device's own status flags of the point, as its latest sample said (``()``: none, or none known)."""
        return self._point(point_id).device_flags

    def reason(self, point_id: str) -> str:
        """Why the point last changed status (fault reason, stale age...), or ""."""
        return self._point(point_id).reason

    def snapshot(self) -> list[PointValue]:
        """Every point, in the order they were added."""
        return [p.as_value() for p in self._points.values()]

    def values_of(self, point_ids: Iterable[str]) -> list[PointValue]:
        """The points among ``point_ids`` the table holds, in that order."""
        points = self._points
        return [points[p].as_value() for p in point_ids if p in points]

    def ids(self, prefix: str = "") -> list[str]:
        """Point ids starting with ``prefix`` (``"ahu1/"``: a device's points), sorted."""
        if self._sorted is None:
            self._sorted = sorted(self._points)
        ordered = self._sorted
        start = bisect.bisect_left(ordered, prefix)
        end = start
        while end < len(ordered) and ordered[end].startswith(prefix):
            end += 1
        return ordered[start:end]

    def with_prefix(self, prefix: str) -> list[PointValue]:
        """Values of the points whose id starts with ``prefix``, sorted by id."""
        return self.values_of(self.ids(prefix))

    @property
    def current(self) -> Mapping[str, Value]:
        """Point id -> value to decide on (interlocks): ``None`` while faulted, stale or down."""
        return _Current(self._points)


class _Current(Mapping[str, Value]):
    __slots__ = ("_points",)

    def __init__(self, points: dict[str, _Point]) -> None:
        self._points = points

    def __getitem__(self, point_id: str) -> Value:
        point = self._points[point_id]
        return None if point.flags & _UNRELIABLE else point.value

    def __iter__(self) -> Iterator[str]:
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)
