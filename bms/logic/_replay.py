"""Replay: a compiled program over recorded series on a manual clock, writing nothing.

At each trigger instant from ``start`` to ``end`` (every ``interval``
seconds, the program's own interval by default) the program reads the last
recorded value of each series at or before that instant, exactly as the
live engine would read the latest value, and what it would have written is
collected with its time. Pure: no threads, no devices, a fresh sandbox.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from bms.clock import ManualClock
from bms.errors import LogicError
from bms.logic._compile import CompiledProgram
from bms.logic._sandbox import Sandbox, Value

Series = Sequence[tuple[float, Value]]


class ReplayWrite(msgspec.Struct, frozen=True):
    at: float
    point: str
    value: float | int | bool | None
    priority: int


class ReplayResult(msgspec.Struct, frozen=True):
    """What the program would have written and when, its errors, and each run's block outputs for charts."""

    program: str
    start: float
    end: float
    interval: float
    runs: int
    writes: tuple[ReplayWrite, ...]
    errors: tuple[tuple[float, str], ...]
    outputs: tuple[tuple[float, dict[str, Any]], ...]


class _Cursor:
    """The last value of one series at or before a time."""

    def __init__(self, series: Series) -> None:
        ordered = sorted(series, key=lambda s: s[0])
        self.times = [t for t, _ in ordered]
        self.values = [v for _, v in ordered]

    def at(self, t: float) -> Value:
        i = bisect.bisect_right(self.times, t)
        return self.values[i - 1] if i else None


def replay(
    compiled: CompiledProgram,
    series: Mapping[str, Series],
    start: float,
    end: float,
    *,
    interval: float | None = None,
    schedules: Mapping[str, Series] | None = None,
    state: Mapping[str, Any] | None = None,
    budget: int | None = None,
    keep_outputs: bool = True,
) -> ReplayResult:
    """Run ``compiled`` every ``interval`` seconds from ``start`` to ``end`` on recorded ``series``."""
    step = interval if interval is not None else compiled.interval
    if step <= 0:
        raise LogicError(f"replay of {compiled.name}: needs an interval > 0 (the program has none: give one)")
    if end < start:
        raise LogicError(f"replay of {compiled.name}: end is before start")
    clock = ManualClock(start)
    sandbox = Sandbox(compiled, clock, budget=budget, state=state)
    cursors = {point: _Cursor(s) for point, s in series.items()}
    schedule_cursors = {name: _Cursor(s) for name, s in (schedules or {}).items()}
    writes: list[ReplayWrite] = []
    errors: list[tuple[float, str]] = []
    outputs: list[tuple[float, dict[str, Any]]] = []
    runs = 0
    n = 0
    while (t := start + n * step) <= end:
        clock.set(t)
        inputs = {p: v for p, c in cursors.items() if (v := c.at(t)) is not None}
        scheds = {p: v for p, c in schedule_cursors.items() if (v := c.at(t)) is not None}
        result = sandbox.run(inputs, scheds)
        runs += 1
        if result.ok:
            writes.extend(ReplayWrite(t, w.point, w.value, w.priority) for w in result.writes)
        else:
            errors.append((t, result.error or "?"))
        if keep_outputs:
            outputs.append((t, result.trace.outputs))
        n += 1
    return ReplayResult(compiled.name, start, end, step, runs, tuple(writes), tuple(errors), tuple(outputs))


def changes(result: ReplayResult) -> list[ReplayWrite]:
    """The writes the engine would have made: each point's value only when it changes (as the engine does)."""
    last: dict[str, object] = {}
    found: list[ReplayWrite] = []
    for write in result.writes:
        if write.point in last and last[write.point] == write.value:
            continue
        last[write.point] = write.value
        found.append(write)
    return found
