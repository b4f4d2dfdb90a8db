"""Is a condition in alarm now? One pure function over the point's value, flags and the clock.

:func:`in_alarm` answers True, False, or None when nothing can be said
(the value is faulted, stale or its device down, a referenced point has
no good value): an alarm keeps its state while its condition is unknown.
Limits keep their deadband relative to the alarm's current state: a high
limit alarm clears only below ``limit - deadband``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Union

from bms.alarms._spec import (
    ChangeOfState,
    CommandMismatch,
    Condition,
    Deviation,
    DeviceDownAlarm,
    HighLimit,
    LowLimit,
    StaleValue,
    StateAlarm,
    Value,
)
from bms.messages import PointValue

UNRELIABLE = frozenset(("fault", "stale", "down"))


class PointView(NamedTuple):
    """What an alarm reads of a point: its latest good value, when it came, its flags."""

    value: Value
    ts: float
    flags: tuple[str, ...] = ()

    @property
    def reliable(self) -> bool:
        return reliable(self)


Reading = Union[PointView, PointValue]
"""A point as the alarm book keeps it: a PointValue as it came, or a PointView made of a status change."""


def reliable(point: Reading) -> bool:
    """Read, and not faulted, stale or down."""
    return point.ts > 0 and not UNRELIABLE.intersection(point.flags)


def _number(value: Value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def same(a: Value, b: Value) -> bool:
    """Command and feedback agree: booleans by truth, numbers within float32 rounding, the rest equal."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, (bool, int, float)) and isinstance(b, (bool, int, float)) and bool(a) == bool(b)
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return abs(x - y) <= 1e-6 * max(1.0, abs(x))
    return a == b


def in_alarm(
    cond: Condition,
    point: Reading,
    lookup: Callable[[str], Reading | None],
    *,
    active: bool,
    now: float,
    changed_at: float | None = None,
) -> bool | None:
    """The condition's state now; ``active`` is the alarm's (for deadbands), ``changed_at`` the last change."""
    if isinstance(cond, DeviceDownAlarm):
        return "down" in point.flags
    if isinstance(cond, StaleValue):
        if point.ts <= 0 or "down" in point.flags:
            return None  # never heard of, or its device is down (an alarm of its own)
        return now - point.ts > cond.period
    if isinstance(cond, CommandMismatch) and cond.feedback is None:
        return "mismatch" in point.flags if reliable(point) else None
    if not reliable(point):
        return None
    value = point.value
    if isinstance(cond, HighLimit):
        v = _number(value)
        return None if v is None else v > (cond.limit - cond.deadband if active else cond.limit)
    if isinstance(cond, LowLimit):
        v = _number(value)
        return None if v is None else v < (cond.limit + cond.deadband if active else cond.limit)
    if isinstance(cond, Deviation):
        v, sp = _number(value), lookup(cond.setpoint)
        target = _number(sp.value) if sp is not None and reliable(sp) else None
        if v is None or target is None:
            return None
        return abs(v - target) > (cond.band - cond.deadband if active else cond.band)
    if isinstance(cond, StateAlarm):
        return any(same(value, wanted) if isinstance(wanted, bool) else value == wanted for wanted in cond.values)
    if isinstance(cond, ChangeOfState):
        return changed_at is not None and now - changed_at <= cond.hold
    if isinstance(cond, CommandMismatch):
        assert cond.feedback is not None
        feedback = lookup(cond.feedback)
        if feedback is None or not reliable(feedback):
            return None
        return not same(value, feedback.value)
    raise TypeError(f"unknown condition {cond!r}")
