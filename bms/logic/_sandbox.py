"""The sandbox: one compiled program in its own PUC Lua 5.4 runtime, run with a budget.

Each :class:`Sandbox` owns one ``lupa.lua54.LuaRuntime`` (never LuaJIT,
whose compiled code never calls the count hook): nothing is shared between
programs, not even the string metatable. The runtime has no ``python``
global and no eval; user code sees the program API and a whitelist of the
standard library (:mod:`bms.logic._prelude`). A run is bounded by an
instruction budget (a count hook set around the program's own code and cleared
when it returns: while a hook is set, Lua 5.4 sends every instruction through
its hook check, so the runner's code runs without it) and the runtime's memory
by ``max_memory``; a ``pcall`` or ``xpcall`` in user code cannot swallow either.

A run returns a :class:`RunResult`: the writes it asks for, the alarm
requests, the log lines, its :class:`Trace` and the new persistent state.
A run that fails leaves nothing written and its persistent state as it was
before the run (the outputs of the program hold their last value).
"""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter
from typing import Any

import lupa.lua54 as lupa
import msgspec

from bms.clock import Clock
from bms.errors import LogicError
from bms.logic._compile import CompiledProgram
from bms.logic._prelude import PRELUDE

DEFAULT_BUDGET = 1_000_000
"""Lua instructions per run: `while true do end` stops after ~3-5 ms."""

DEFAULT_MAX_MEMORY = 16 * 1024 * 1024
"""Bytes of Lua memory per program."""

DEFAULT_KEEP = 64
"""Runs whose block outputs stay in Lua for their traces (the engine keeps ``trace_runs`` + 1)."""

Value = float | int | bool | str | None
_SCALARS = (float, int, bool, str)


class Write(msgspec.Struct, frozen=True):
    """A command the program asks for: the point, its value (None: release) and priority."""

    point: str
    value: float | int | bool | None
    priority: int


class AlarmRequest(msgspec.Struct, frozen=True):
    """An alarm the program asks the alarm engine to raise (active) or clear."""

    alarm: str
    active: bool
    severity: str
    message: str


class LogLine(msgspec.Struct, frozen=True):
    level: str
    text: str


class Trace(msgspec.Struct, frozen=True):
    """What one run did: inputs read, each block's output, outputs written, duration, error."""

    at: float
    inputs: dict[str, Value]
    outputs: dict[str, Any]
    writes: tuple[Write, ...]
    duration: float
    error: str | None = None


class RunResult(msgspec.Struct, frozen=True, gc=False):
    """The outcome of one run. ``fault`` is None, "error", "budget" or "memory".

    Made once per run, so it is cheap: its :attr:`trace` is built only when asked for (the run keeps
    the raw block outputs), and its :attr:`state` is the program's persistent state copied out of Lua
    when asked for (the state after this run, as long as no later run has happened).
    """

    program: str
    at: float
    ok: bool
    error: str | None
    fault: str | None
    writes: tuple[Write, ...]
    alarms: tuple[AlarmRequest, ...]
    logs: tuple[LogLine, ...]
    duration: float
    given: dict[str, Value] | None
    """The inputs as given (None: passed as ``args``, in the order of ``compiled.reads``)."""
    args: tuple[Any, ...]
    run: int
    """The run's number in its sandbox (its block outputs stay in Lua for the last ``keep`` runs)."""
    sandbox: Any

    @property
    def trace(self) -> Trace:
        """What the run did: inputs, every block's output, writes, duration, error."""
        return Trace(self.at, self.inputs, self.sandbox.outputs_of(self.run), self.writes, self.duration, self.error)

    @property
    def inputs(self) -> dict[str, Value]:
        """The inputs the run was given."""
        if self.given is not None:
            return self.given
        return {p: v for p, v in zip(self.sandbox.compiled.reads, self.args, strict=True) if v is not None}

    @property
    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.sandbox.state
        return state


def _writes0(p: tuple[str | None, ...], r: tuple[Any, ...]) -> tuple[Write, ...]:
    return ()


def _writes1(p: tuple[str | None, ...], r: tuple[Any, ...]) -> tuple[Write, ...]:
    return (Write(p[r[4]], r[5], r[6]),)


def _writes2(p: tuple[str | None, ...], r: tuple[Any, ...]) -> tuple[Write, ...]:
    return (Write(p[r[4]], r[5], r[6]), Write(p[r[7]], r[8], r[9]))


def _writes3(p: tuple[str | None, ...], r: tuple[Any, ...]) -> tuple[Write, ...]:
    return (Write(p[r[4]], r[5], r[6]), Write(p[r[7]], r[8], r[9]),
            Write(p[r[10]], r[11], r[12]))


def _writes4(p: tuple[str | None, ...], r: tuple[Any, ...]) -> tuple[Write, ...]:
    return (Write(p[r[4]], r[5], r[6]), Write(p[r[7]], r[8], r[9]),
            Write(p[r[10]], r[11], r[12]), Write(p[r[13]], r[14], r[15]))


_FEW_WRITES = (_writes0, _writes1, _writes2, _writes3, _writes4)
"""The writes of a run that wrote 0-4 points, unrolled (a comprehension costs twice as much per run):
``r`` is the runner's tuple (run, 3 * writes, 0, 0, then each write's place, value and priority)."""


class Sandbox:
    """One program, ready to run on ``clock``. Not thread-safe: one caller at a time."""

    def __init__(
        self,
        compiled: CompiledProgram,
        clock: Clock,
        *,
        budget: int | None = None,
        max_memory: int = DEFAULT_MAX_MEMORY,
        state: Mapping[str, Any] | None = None,
        keep: int = DEFAULT_KEEP,
    ) -> None:
        self.compiled = compiled
        self.clock = clock
        self.budget = budget or compiled.budget or DEFAULT_BUDGET
        self._runtime = lupa.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            max_memory=max_memory,
            attribute_filter=_deny,
        )
        compile_, configure, self._run, self._outputs_of, self._state_json, self._set_state = self._runtime.execute(
            PRELUDE)
        self._reads = compiled.reads
        self._now = clock.now
        self._read_set = frozenset(compiled.reads)
        self._name = compiled.name
        self._write_points = (None, *compiled.writes)  # Lua's write(): a point's place, 1-based
        # only user code (hand-written, CustomScript) can fail half way through a run by its own doing: its
        # runs copy the state first, so that a failed run leaves the state of before
        snapshot = compiled.hand_written or "CustomScript" in compiled.block_types
        configure(compiled.priority, self._runtime.table_from({p: i for i, p in enumerate(compiled.writes, 1)}),
                  self._runtime.table_from({p: i for i, p in enumerate(compiled.reads, 1)}), len(compiled.reads),
                  self.budget, max(keep, 1), len(compiled.slots), snapshot)
        chunk = compile_(compiled.lua, compiled.name)
        if isinstance(chunk, tuple):
            raise LogicError(f"program {compiled.name}: Lua does not compile: {chunk[1]}")
        self._state: dict[str, Any] | None = {"blocks": {}, "user": {}}
        self._text: str | None = None  # the state as JSON text, when made
        self._fresh = True  # False: a run changed the state in Lua since it was copied out
        if state:
            self.load_state(state)

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> dict[str, Any]:
        """The persistent state after the last good run: {"blocks": ..., "user": ...}.

        Copied out of Lua only when asked for after a run (a run leaves it in Lua), as :meth:`state_text`."""
        if not self._fresh or self._state is None:
            decoded: dict[str, Any] = msgspec.json.decode(self.state_text())
            self._state = decoded
        return self._state

    def state_text(self) -> str:
        """The persistent state as JSON text (what logic.db keeps), written by Lua in one call.

        Tables whose keys are exactly 1..n become arrays, others objects with text keys; numbers that are
        not finite and values that cannot be kept (functions) become null; strings are UTF-8 text."""
        if not self._fresh:
            try:
                text = self._state_json()
            except lupa.LuaError as err:  # (out of memory building it)
                raise LogicError(f"program {self._name}: its state cannot be copied out: {err}") from None
            self._text, self._state, self._fresh = text, None, True
        if self._text is None:
            self._text = msgspec.json.encode(self._state).decode()
        return self._text

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Start from a saved state (as :attr:`state` gave it)."""
        blocks, user = state.get("blocks") or {}, state.get("user") or {}
        if not isinstance(blocks, dict) or not isinstance(user, dict):
            raise LogicError(f"program {self.compiled.name}: saved state is not {{blocks, user}} tables")
        self._set_state(self._runtime.table_from(blocks, recursive=True), self._runtime.table_from(user, recursive=True))
        self._state, self._text = {"blocks": blocks, "user": user}, None
        self._fresh = True

    def memory_used(self) -> int:
        return int(self._runtime.get_memory_used())

    # ------------------------------------------------------------------ runs

    def _refuse(self, what: str, values: Mapping[str, Any]) -> None:
        key, value = next((k, v) for k, v in values.items() if not isinstance(v, _SCALARS))
        raise LogicError(f"program {self.compiled.name}: {what} {key} is a {type(value).__name__}, not a value")

    def run(self, inputs: Mapping[str, Value] | None = None, schedules: Mapping[str, Value] | None = None) -> RunResult:
        """One run at the clock's present time: the program reads ``inputs`` and ``schedules``.

        A value that is not None, a bool, a number or a string is refused (LogicError) before the run.
        """
        if schedules:
            for value in schedules.values():
                if not isinstance(value, _SCALARS):
                    self._refuse("schedule", schedules)
        if not inputs:
            return self.run_reads(tuple([None] * len(self._reads)) if self._reads else (), schedules)
        for value in inputs.values():
            if not isinstance(value, _SCALARS):
                self._refuse("input", inputs)
        if inputs.keys() <= self._read_set:  # the values as arguments, no table
            return self.run_reads(tuple(map(inputs.get, self._reads)), schedules)
        now = self._now()
        tsched = self._runtime.table_from(schedules) if schedules else None
        tin = self._runtime.table_from(inputs)
        started = perf_counter()
        try:
            r = self._run(now, tsched, tin)
        except lupa.LuaError as exc:
            r = self._failed(exc)
        duration = perf_counter() - started
        self._fresh = False
        return self._result(now, duration, dict(inputs), (), r)

    def run_reads(self, values: tuple[Value, ...], schedules: Mapping[str, Value] | None = None) -> RunResult:
        """One run with the values of the program's reads, in the order of ``compiled.reads`` (None: none).

        The engine's way in: the caller vouches that every value (and schedule value) is None, a bool, a
        number or a string. One call into Lua: the values go in as its arguments, and the run's writes,
        alarm requests and log lines come back as one flat tuple; the block outputs stay in Lua until a
        trace is asked for.
        """
        now = self._now()
        tsched = self._runtime.table_from(schedules) if schedules else None
        started = perf_counter()
        try:
            r = self._run(now, tsched, None, *values)
        except lupa.LuaError as exc:
            r = self._failed(exc)
        duration = perf_counter() - started
        self._fresh = False
        nw = r[1]
        if nw + 4 == len(r) and nw <= 12:  # 0-4 writes and nothing else: the common case
            return RunResult(self._name, now, True, None, None, _FEW_WRITES[nw // 3](self._write_points, r), (), (),
                             duration, None, values, r[0], self)
        return self._result(now, duration, None, values, r)

    def _failed(self, exc: lupa.LuaError) -> tuple[Any, ...]:
        """What the runner gives back when it failed itself (out of memory outside the program's pcall)."""
        if isinstance(exc, lupa.LuaMemoryError):
            return (0, -1, "memory", "not enough memory")
        return (0, -1, "error", str(exc))  # never user-visible otherwise

    def _result(self, now: float, duration: float, given: dict[str, Value] | None, args: tuple[Any, ...],
                r: tuple[Any, ...]) -> RunResult:
        gen, nw = r[0], r[1]
        if nw < 0:
            return RunResult(self._name, now, False, str(r[3]), r[2], (), (), (), duration, given, args, gen, self)
        na, nl = r[2], r[3]
        points = self._write_points
        writes: tuple[Write, ...] = ()
        if nw:
            writes = tuple([Write(points[r[j]], r[j + 1], r[j + 2]) for j in range(4, 4 + nw, 3)])
        i = 4 + nw
        alarms: tuple[AlarmRequest, ...] = ()
        logs: tuple[LogLine, ...] = ()
        if na:
            alarms = tuple([AlarmRequest(r[j], r[j + 1], r[j + 2], r[j + 3]) for j in range(i, i + na, 4)])
            i += na
        if nl:
            logs = tuple([LogLine(str(r[j]), str(r[j + 1])) for j in range(i, i + nl, 2)])
        return RunResult(self._name, now, True, None, None, writes, alarms, logs, duration, given, args, gen, self)

    def outputs_of(self, run: int) -> dict[str, Any]:
        """The block outputs of run number ``run`` ({} when it is older than the last ``keep`` runs)."""
        slots = self.compiled.slots
        if not slots or not run:
            return {}
        found = self._outputs_of(run, len(slots))
        if found is None:
            return {}
        values = found[1:] if isinstance(found, tuple) else (None,)
        if len(values) < len(slots):
            values = values + (None,) * (len(slots) - len(values))
        return dict(zip(slots, values, strict=True))


def _deny(obj: object, name: object, is_setting: bool) -> object:
    raise AttributeError("no Python objects in the sandbox")


class FaultCounter:
    """Counts a program's consecutive resource faults (budget, memory); says when to disable it.

    ``record`` returns True on the run that reaches ``limit`` faults in a
    row; ``disabled`` and ``reason`` then say so. A good run resets the
    count; an ordinary Lua error neither counts nor resets it.
    """

    def __init__(self, limit: int = 3) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.consecutive = 0
        self.disabled = False
        self.reason: str | None = None

    def record(self, result: RunResult) -> bool:
        if result.ok:
            self.consecutive = 0
            return False
        if result.fault not in ("budget", "memory"):
            return False
        self.consecutive += 1
        if self.consecutive >= self.limit and not self.disabled:
            self.disabled = True
            self.reason = f"program {result.program} disabled: {result.error}, {self.consecutive} runs in a row"
            return True
        return False

    def reset(self) -> None:
        """Enable again (an operator's enable)."""
        self.consecutive = 0
        self.disabled = False
        self.reason = None
