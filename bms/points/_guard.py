"""Write guards: what a command must satisfy before it reaches a priority array.

Built from each point's :class:`~bms.config.GuardSpec` (min, max, writes per
minute, interlock) plus its kind. A refusal raises
:class:`~bms.errors.WriteRefused` whose ``guard`` names the rule
("not-writable", "type", "min", "max", "interlock", "rate") and whose reason
a person can act on. A refused write never uses up the rate budget.
Relinquishing (``value`` None) is always allowed on a writable point: it
hands control back, it does not command anything.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping

from bms.config import PointSpec
from bms.errors import ConfigError, NotFound, WriteRefused
from bms.messages import Value
from bms.points._interlock import Interlock, MissingValue

RATE_WINDOW = 60.0
"""Seconds of the sliding window behind ``max_writes_per_minute``."""


class _Rule:
    __slots__ = ("interlock", "kind", "maximum", "minimum", "rate_count", "rate_window", "states", "writable", "writes")

    def __init__(self, spec: PointSpec, interlock: Interlock | None, rate: tuple[int, float] | None) -> None:
        guard = spec.guard
        self.writable = spec.writable
        self.kind = spec.kind
        self.states = tuple(spec.states)
        self.minimum = guard.min if guard else None
        self.maximum = guard.max if guard else None
        self.interlock = interlock
        self.rate_count, self.rate_window = rate if rate else (0, 0.0)
        self.writes: deque[float] | None = deque() if self.rate_count else None  # counted with a rate guard only


class WriteGuard:
    """The write guards of every point of a site.

    ``points`` maps every point id of the site to its spec: the writable
    ones are guarded, all of them may be read by interlocks. Every bad guard
    is collected into one :class:`ConfigError` naming the point.
    """

    def __init__(self, points: Mapping[str, PointSpec]) -> None:
        problems: list[str] = []
        self._rules: dict[str, _Rule] = {}
        read_only: _Rule | None = None  # one shared rule: a read-only point is refused before any per-point state
        shared: dict[int, tuple[PointSpec, _Rule]] = {}  # a profile's point: one rule for all its devices' points
        for point_id, spec in points.items():
            if not spec.writable:
                if read_only is None:
                    read_only = _Rule(spec, None, None)
                self._rules[point_id] = read_only
                continue
            interlock: Interlock | None = None
            rate: tuple[int, float] | None = None
            guard = spec.guard
            if guard is not None and guard.interlock is not None:
                try:
                    interlock = Interlock(guard.interlock, points, where=f"{point_id}: guard.interlock")
                except ConfigError as err:
                    problems.extend(err.problems)
            if guard is not None and guard.max_writes_per_minute is not None:
                limit = guard.max_writes_per_minute
                if not math.isfinite(limit) or limit <= 0:
                    problems.append(f"{point_id}: guard.max_writes_per_minute: must be above 0, got {limit:g}")
                else:
                    count = max(1, int(limit))
                    rate = (count, RATE_WINDOW * count / limit)
            if interlock is None and rate is None:  # no per-point state: the spec's rule serves every point of it
                found = shared.get(id(spec))
                if found is None or found[0] is not spec:
                    found = shared[id(spec)] = (spec, _Rule(spec, None, None))
                self._rules[point_id] = found[1]
                continue
            self._rules[point_id] = _Rule(spec, interlock, rate)
        if problems:
            raise ConfigError(f"{len(problems)} bad write guard(s): {problems[0]}", problems)

    def check(self, point_id: str, value: Value, now: float, values: Mapping[str, Value]) -> None:
        """Refuse (:class:`WriteRefused`) a write, or pass it; nothing changes either way.

        ``values`` are the current values of the site, read by interlocks; a
        point absent or ``None`` there has no current value. A write that is
        carried out counts toward the rate through :meth:`accepted`, once it
        is durable.
        """
        rule = self._rules.get(point_id)
        if rule is None:
            raise NotFound(f"unknown point {point_id!r}")
        if not rule.writable:
            raise WriteRefused(point_id, "the point is read-only (guard not-writable)", guard="not-writable")
        if value is None:
            return
        _check_type(point_id, rule, value)
        if rule.minimum is not None and isinstance(value, int | float) and value < rule.minimum:
            raise WriteRefused(point_id, f"value {_fmt(value)} below minimum {_fmt(rule.minimum)} (guard min)", guard="min")
        if rule.maximum is not None and isinstance(value, int | float) and value > rule.maximum:
            raise WriteRefused(point_id, f"value {_fmt(value)} above maximum {_fmt(rule.maximum)} (guard max)", guard="max")
        if rule.interlock is not None:
            _check_interlock(point_id, rule.interlock, values)
        if rule.rate_count:
            writes = rule.writes
            assert writes is not None
            while writes and writes[0] <= now - rule.rate_window:
                writes.popleft()
            if len(writes) >= rule.rate_count:
                wait = writes[0] + rule.rate_window - now
                raise WriteRefused(
                    point_id,
                    f"{len(writes)} writes in the last {_fmt(rule.rate_window)} s reach the limit; "
                    f"next write allowed in {_fmt(math.ceil(wait))} s (guard rate)",
                    guard="rate",
                )

    def rate_limited(self, point_id: str) -> bool:
        """Whether the point's writes are counted (it has a ``max_writes_per_minute``)."""
        rule = self._rules.get(point_id)
        return rule is not None and rule.rate_count > 0

    def accepted(self, point_id: str, now: float) -> None:
        """A write that passed :meth:`check` was carried out at ``now``: it counts toward the rate."""
        rule = self._rules.get(point_id)
        if rule is not None and rule.writes is not None:
            rule.writes.append(now)

    def restore(self, writes: Mapping[str, Iterable[float]]) -> None:
        """The counted writes of each point, as persisted (a restart does not reset a rate limit)."""
        for point_id, times in writes.items():
            rule = self._rules.get(point_id)
            if rule is not None and rule.rate_count:
                rule.writes = deque(sorted(times))

    def is_writable(self, point_id: str) -> bool:
        rule = self._rules.get(point_id)
        return rule is not None and rule.writable

    def interlock(self, point_id: str) -> Interlock | None:
        """The point's parsed interlock, if it has one."""
        rule = self._rules.get(point_id)
        return rule.interlock if rule else None


def _check_type(point_id: str, rule: _Rule, value: Value) -> None:
    problem = _type_problem(rule.kind, rule.states, value)
    if problem:
        raise WriteRefused(point_id, f"{problem} (guard type)", guard="type")


def _type_problem(kind: str, states: tuple[str, ...], value: Value) -> str:
    if kind == "text":
        return "" if isinstance(value, str) else f"value {value!r} is not text"
    if kind == "bool":
        if isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1)):
            return ""
        return f"value {value!r} is not a boolean (true/false or 1/0)"
    if isinstance(value, bool):
        return f"value {value!r} is not a {'number' if kind == 'number' else 'state'}"
    if kind == "number":
        if isinstance(value, int | float):
            return "" if math.isfinite(value) else f"value {value!r} is not a finite number"
        return f"value {value!r} is not a number"
    if isinstance(value, str):  # enum by name
        if states and value not in states:
            return f"value {value!r} is not one of the states {', '.join(states)}"
        return ""
    if isinstance(value, int | float) and math.isfinite(value) and float(value).is_integer() and value >= 1:
        if states and value > len(states):
            return f"state {_fmt(value)} is above the {len(states)} states"
        return ""
    return f"value {value!r} is not a state name or number (1..)"


def _check_interlock(point_id: str, interlock: Interlock, values: Mapping[str, Value]) -> None:
    try:
        permitted = interlock.permits(values)
    except MissingValue as missing:
        raise WriteRefused(
            point_id,
            f"interlock {interlock.expression!r} reads {missing.point_id}, which has no current value (guard interlock)",
            guard="interlock",
        ) from None
    except TypeError as err:
        raise WriteRefused(
            point_id, f"interlock {interlock.expression!r} cannot be evaluated: {err} (guard interlock)", guard="interlock"
        ) from None
    if not permitted:
        shown = ", ".join(f"{p}={values.get(p)!r}" for p in interlock.points)
        raise WriteRefused(
            point_id, f"interlock {interlock.expression!r} is false ({shown}) (guard interlock)", guard="interlock"
        )


def _fmt(number: float) -> str:
    """45 for 45 and 45.0, 21.5 for 21.5."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)
