"""A small in-memory stand-in for ApiClient, for tests of pure CLI and shell parts."""

from __future__ import annotations

from bms.errors import DaemonError, NotFound
from bms.messages import PointState


def state(point_id: str, value: float | None = 21.0, **kw: object) -> PointState:
    fields: dict[str, object] = {"name": point_id.replace("/", " "), "ts": 1_700_000_000.0, **kw}
    return PointState(point_id=point_id, value=value, **fields)  # type: ignore[arg-type]


class FakeApi:
    """Answers ``points`` and ``point`` from a fixed list; counts calls; ``down`` fails every call."""

    def __init__(self, *points: PointState) -> None:
        self.states = {p.point_id: p for p in points}
        self.calls: list[str] = []
        self.log_level = "info"
        self.closed = False
        self.down = False

    def points(self, under: str | None = None, tags: list[str] | None = None, pattern: str | None = None) -> list[PointState]:
        self.calls.append("points")
        if self.down:
            raise DaemonError("no bms daemon is running")
        return list(self.states.values())

    def point(self, point_id: str) -> PointState:
        self.calls.append("point")
        if point_id not in self.states:
            raise NotFound(f"unknown point {point_id!r}")
        return self.states[point_id]

    def priority(self, point_id: str) -> object:
        self.calls.append("priority")
        if not self.point(point_id).writable:
            raise NotFound(f"point {point_id!r} is not commandable: it has no priority array")
        raise AssertionError("not needed by the tests")

    def set_log_level(self, level: str) -> str:
        self.log_level = level
        return level

    def close(self) -> None:
        self.closed = True
