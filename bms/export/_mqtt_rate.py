"""``ValueGate``: per-point rate limit and deadband of the values a site publishes (plain logic, on a clock).

A value is let through when the point has never been sent, when it is not
a number (a bool or a state that changed is always news), or when it moved
by at least ``deadband`` from the value last sent; and then only if the
point's last value went out at least ``min_interval`` seconds ago. A value
held back by the rate limit is kept (the newest one per point) and let out
by :meth:`ValueGate.due` once its interval has passed, so a point that
stops changing still ends on its true value.
"""

from __future__ import annotations

from bms.messages import PointValue


def _number(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


class ValueGate:
    def __init__(self, min_interval: float = 0.0, deadband: float = 0.0) -> None:
        self.min_interval = min_interval
        self.deadband = deadband
        self.sent: dict[str, tuple[object, float]] = {}  # point id -> (value, when) last let through
        self.held: dict[str, PointValue] = {}  # point id -> the newest value the rate limit held back
        self.dropped = 0  # values never sent: inside the deadband, or replaced while held

    @property
    def open(self) -> bool:
        """No rate limit and no deadband: every value goes."""
        return self.min_interval <= 0 and self.deadband <= 0

    def admit(self, pv: PointValue, now: float) -> bool:
        """Whether ``pv`` goes out now (False: dropped in the deadband, or held for later)."""
        last = self.sent.get(pv.point_id)
        if last is not None and self.deadband > 0:
            new, old = _number(pv.value), _number(last[0])
            if new is not None and old is not None and abs(new - old) < self.deadband:
                self.dropped += 1
                return False
        if last is not None and self.min_interval > 0 and now - last[1] < self.min_interval:
            if pv.point_id in self.held:
                self.dropped += 1
            self.held[pv.point_id] = pv
            return False
        self.held.pop(pv.point_id, None)
        self.sent[pv.point_id] = (pv.value, now)
        return True

    def due(self, now: float) -> list[PointValue]:
        """Held values whose interval has passed: they go out now."""
        if not self.held:
            return []
        out = [pv for pid, pv in self.held.items() if now - self.sent[pid][1] >= self.min_interval]
        for pv in out:
            del self.held[pv.point_id]
            self.sent[pv.point_id] = (pv.value, now)
        return out
