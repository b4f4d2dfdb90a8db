r"""An in-memory site behind the Gateway protocol, with real behaviour.

Points hold a real :class:`bms.points.PriorityArray` (16 levels, relinquish
default) and a min/max guard; nodes are real :class:`bms.model.Node` records;
writes publish ValueChanged to the open feeds; history is a list of samples
per point with rollups computed on the fly. Services named in ``down`` answer
ServiceUnavailable, as a stopped component would.
"""

from __future__ import annotations

import asyncio
import fnmatch
import math
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from bms.api import (
    ComponentHealth,
    EventFeed,
    FeedEvent,
    HealthReport,
    HistorySample,
    HistorySeries,
    LogLevel,
    RollupBucket,
    ServiceUnavailable,
)
from bms.errors import ConfigError, Conflict, NotFound, WriteRefused
from bms.messages import (
    AcceptDevice,
    DeviceRecord,
    DiscoverDevices,
    IgnoreDevice,
    ListDevices,
    ListNodes,
    ListPoints,
    PointState,
    PointValue,
    PriorityArrayView,
    QueryHistory,
    RelinquishPoint,
    RemoveDevice,
    StatusChanged,
    Value,
    ValueChanged,
    WriteAccepted,
    WritePoint,
)
from bms.model import Node
from bms.points import PriorityArray

NOW = 1_700_000_000.0
TIERS = {"15m": 900.0, "1h": 3600.0, "1d": 86400.0}


@dataclass
class FakePoint:
    point_id: str
    name: str
    value: Value
    unit: str = "°C"
    writable: bool = False
    tags: tuple[str, ...] = ()
    guard_min: float | None = None
    guard_max: float | None = None
    relinquish_default: Value = None
    array: PriorityArray = field(init=False)
    expires: list[float | None] = field(default_factory=lambda: [None] * 16)
    users: list[str] = field(default_factory=lambda: [""] * 16)

    def __post_init__(self) -> None:
        self.array = PriorityArray(self.point_id, self.relinquish_default)

    def active(self) -> int | None:
        return self.array.active_priority

    def effective(self) -> Value:
        return self.array.effective

    def state(self) -> PointState:
        return PointState(point_id=self.point_id, name=self.name, value=self.value, ts=NOW, unit=self.unit,
                          writable=self.writable, active_priority=self.active(), device=self.point_id.split("/")[0],
                          flags=("overridden",) if self.active() is not None else ())


class FakeSite:
    """The Gateway of a one-room site: room1/temp (read-only) and room1/sp (writable, 15..28)."""

    def __init__(self) -> None:
        self.waits: list[float] = []  # the ``wait`` of each write
        self.point_table: dict[str, FakePoint] = {
            "room1/temp": FakePoint("room1/temp", "Room Temp", 21.5, tags=("temp", "sensor", "point")),
            "room1/sp": FakePoint("room1/sp", "Room Temp Setpoint", 21.0, writable=True,
                                  tags=("temp", "sp", "point"), guard_min=15.0, guard_max=28.0,
                                  relinquish_default=21.0),
        }
        self.node_list: list[Node] = [
            Node(id="test", type="Site", name="Test site", tags=("site",)),
            Node(id="room1", type="Space", name="Room 1", parent="test", tags=("space",)),
            Node(id="room1-eq", type="Equip", name="virtual-room", parent="room1", tags=("equip",)),
            Node(id="room1/temp", type="Point", name="Room Temp", parent="room1-eq", tags=("temp", "sensor", "point")),
            Node(id="room1/sp", type="Point", name="Room Temp Setpoint", parent="room1-eq", tags=("temp", "sp", "point")),
        ]
        self.device_table: dict[str, DeviceRecord] = {
            "room1": DeviceRecord(device_id="room1", protocol="virtual", address="", name="virtual-room", points=2),
        }
        self.found = [DeviceRecord(device_id="bacnet:1001", protocol="bacnet", address="127.0.0.9", state="Discovered")]
        self.samples: dict[str, list[HistorySample]] = {
            "room1/temp": [HistorySample(ts=NOW - 3600 + 60 * i, value=20.0 + i / 10) for i in range(60)],
        }
        self.down: set[str] = set()
        self.log_level: str = "info"
        self.feeds: list[EventFeed] = []
        self.closed_feeds = 0
        self.script: list[FeedEvent] = []  # offered to each new feed, which then closes
        self.hold_open = False  # keep feeds open after the script (live tests)
        self.closed = False

    # -------------------------------------------------------------- helpers
    def _up(self, service: str) -> None:
        if service in self.down:
            raise ServiceUnavailable(service)

    def _point(self, point_id: str) -> FakePoint:
        self._up("points")
        try:
            return self.point_table[point_id]
        except KeyError:
            raise NotFound(f"unknown point {point_id!r}") from None

    def _publish(self, event: FeedEvent) -> None:
        for feed in list(self.feeds):
            feed.offer(event)

    # -------------------------------------------------------------- Gateway
    async def health(self) -> HealthReport:
        components = tuple(
            ComponentHealth(component=name, state="Down" if name in self.down else "Healthy", since=NOW)
            for name in ("devices", "nodes", "points")
        )
        return HealthReport(status="Degraded" if self.down else "Healthy", components=components)

    async def nodes(self, query: ListNodes) -> list[Any]:
        self._up("nodes")
        found = self.node_list
        if query.under is not None:
            below = self._below(query.under)
            found = [n for n in found if n.id in below]
        if query.tags:
            found = [n for n in found if set(query.tags) <= set(n.tags)]
        if query.node_type:
            found = [n for n in found if n.type == query.node_type]
        return found

    def _below(self, node_id: str) -> set[str]:
        if node_id not in {n.id for n in self.node_list}:
            raise NotFound(f"unknown node {node_id!r}")
        below: set[str] = set()
        frontier = {node_id}
        while frontier:
            frontier = {n.id for n in self.node_list if n.parent in frontier} - below
            below |= frontier
        return below

    async def node(self, node_id: str) -> Any:
        self._up("nodes")
        for n in self.node_list:
            if n.id == node_id:
                return n
        raise NotFound(f"unknown node {node_id!r}")

    async def points(self, query: ListPoints) -> list[PointState]:
        self._up("points")
        found = list(self.point_table.values())
        if query.under is not None:
            below = self._below(query.under)
            found = [p for p in found if p.point_id in below]
        if query.tags:
            found = [p for p in found if set(query.tags) <= set(p.tags)]
        if query.pattern:
            found = [p for p in found if fnmatch.fnmatchcase(p.point_id, query.pattern)]
        return [p.state() for p in found]

    async def point(self, point_id: str) -> PointState:
        return self._point(point_id).state()

    async def priority_array(self, point_id: str) -> PriorityArrayView:
        p = self._point(point_id)
        if not p.writable:
            raise NotFound(f"point {point_id!r} is not commandable: it has no priority array")
        return PriorityArrayView(point_id=point_id, levels=p.array.levels(), expires=tuple(p.expires),
                                 users=tuple(p.users), effective=p.effective(), active_priority=p.active(),
                                 relinquish_default=p.relinquish_default)

    async def levels(self, point_id: str) -> PriorityArrayView:
        return await self.priority_array(point_id)

    async def levels_and_write(self, command: WritePoint,
                               wait: float = 0.0) -> tuple[PriorityArrayView | None, WriteAccepted]:
        try:
            view: PriorityArrayView | None = await self.levels(command.point_id)
        except NotFound:
            view = None
        return view, await self.write(command, wait)

    async def write(self, command: WritePoint, wait: float = 0.0) -> WriteAccepted:
        self.waits.append(wait)
        p = self._point(command.point_id)
        if not p.writable:
            raise WriteRefused(command.point_id, "the point is not writable", guard="writable")
        value = command.value
        if value is not None:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise WriteRefused(command.point_id, f"{value!r} is not a number", guard="kind")
            if p.guard_min is not None and value < p.guard_min:
                raise WriteRefused(command.point_id, f"{value} is below the minimum {p.guard_min}", guard="min")
            if p.guard_max is not None and value > p.guard_max:
                raise WriteRefused(command.point_id, f"{value} is above the maximum {p.guard_max}", guard="max")
        i = command.priority - 1
        p.array.write(command.priority, value)
        p.expires[i] = NOW + command.duration if command.duration and value is not None else None
        p.users[i] = command.user if value is not None else ""
        return self._commanded(p, command.priority)

    def _commanded(self, p: FakePoint, priority: int) -> WriteAccepted:
        p.value = p.effective()
        self._publish(ValueChanged(values=(PointValue(point_id=p.point_id, value=p.value, ts=NOW),), source="fake"))
        self._publish(StatusChanged(point_id=p.point_id, flags=p.state().flags, ts=NOW))
        return WriteAccepted(point_id=p.point_id, effective=p.value, active_priority=p.active(), priority=priority,
                             expires_at=p.expires[priority - 1])

    async def relinquish(self, command: RelinquishPoint, wait: float = 0.0) -> WriteAccepted:
        self.waits.append(wait)
        p = self._point(command.point_id)
        if not p.writable:
            raise WriteRefused(command.point_id, "the point is not writable", guard="writable")
        i = command.priority - 1
        p.array.relinquish(command.priority)
        p.expires[i], p.users[i] = None, ""
        return self._commanded(p, command.priority)

    async def history(self, query: QueryHistory) -> HistorySeries:
        self._up("history")
        self._point(query.point_id)
        samples = [s for s in self.samples.get(query.point_id, []) if query.start <= s.ts < query.end]
        if query.rollup is None:
            return HistorySeries(point_id=query.point_id, start=query.start, end=query.end, rollup="raw",
                                 samples=tuple(samples[: query.limit]))
        tier = "15m" if query.rollup == "auto" else query.rollup
        groups: dict[float, list[float]] = {}
        for s in samples:
            if isinstance(s.value, (int, float)):
                groups.setdefault(s.ts - s.ts % TIERS[tier], []).append(float(s.value))
        buckets = tuple(RollupBucket(ts=ts, avg=sum(v) / len(v), min=min(v), max=max(v), last=v[-1], count=len(v))
                        for ts, v in sorted(groups.items()))
        return HistorySeries(point_id=query.point_id, start=query.start, end=query.end, rollup=tier, buckets=buckets)

    async def history_csv(self, query: QueryHistory) -> AsyncGenerator[str, None]:
        series = await self.history(query)  # refusals before the first line, as the protocol says
        return _csv_lines(series)

    async def devices(self, query: ListDevices) -> list[DeviceRecord]:
        self._up("devices")
        return [d for d in self.device_table.values() if query.protocol in (None, d.protocol)]

    async def device(self, device_id: str) -> DeviceRecord:
        self._up("devices")
        try:
            return self.device_table[device_id]
        except KeyError:
            raise NotFound(f"unknown device {device_id!r}") from None

    async def discover(self, query: DiscoverDevices) -> list[DeviceRecord]:
        self._up("devices")
        if query.protocol != "bacnet":
            return []
        for d in self.found:
            self.device_table.setdefault(d.device_id, d)
        return list(self.found)

    async def accept(self, command: AcceptDevice) -> DeviceRecord:
        record = await self.device(command.device_id)
        if record.state not in ("Discovered", "Ignored"):
            raise Conflict(f"device {command.device_id!r} is already part of the site")
        if command.profile is not None and command.profile != "bacnet-generic":
            raise ConfigError(f"no profile named {command.profile!r}")  # as bms.config.find_profile
        accepted = msgspec.structs.replace(record, state="Accepted")
        self.device_table[command.device_id] = accepted
        return accepted

    async def ignore(self, command: IgnoreDevice) -> DeviceRecord:
        record = await self.device(command.device_id)
        if record.state not in ("Discovered", "Ignored"):
            raise Conflict(f"device {command.device_id!r} is part of the site: it cannot be ignored")
        ignored = msgspec.structs.replace(record, state="Ignored")
        self.device_table[command.device_id] = ignored
        return ignored

    async def remove(self, command: RemoveDevice) -> DeviceRecord:
        record = await self.device(command.device_id)
        if record.state != "Accepted":
            raise Conflict(f"device {command.device_id!r} is not part of the site (it is {record.state}): nothing to remove")
        removed = msgspec.structs.replace(record, state="Discovered")
        self.device_table[command.device_id] = removed
        return removed

    async def open_feed(self, points: frozenset[str] | None, scans: frozenset[str] = frozenset()) -> EventFeed:
        self._up("stream")
        feed = EventFeed(points, asyncio.get_running_loop(), scans)
        self.feeds.append(feed)
        for event in self.script:
            feed.offer(event)
        if not self.hold_open:
            feed.close()
        return feed

    def close_feed(self, feed: EventFeed) -> None:
        if feed in self.feeds:
            self.feeds.remove(feed)
            self.closed_feeds += 1

    async def set_log_level(self, level: LogLevel) -> None:
        self.log_level = level

    async def aclose(self) -> None:
        self.closed = True


async def _csv_lines(series: HistorySeries) -> AsyncGenerator[str, None]:
    """The site's CSV, one line at a time (the store's format: bms.history writes the real one)."""
    if series.rollup == "raw":
        yield "time,ts,value\n"
        for s in series.samples:
            yield f"{_iso(s.ts)},{s.ts!r},{'' if s.value is None else s.value}\n"
    else:
        yield "time,ts,avg,min,max,last,count\n"
        for b in series.buckets:
            yield f"{_iso(b.ts)},{b.ts!r},{b.avg!r},{b.min!r},{b.max!r},{b.last!r},{b.count}\n"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
