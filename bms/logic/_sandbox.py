"""The sandbox: one compiled program in its own PUC Lua 5.4 runtime, run with a budget.

Each :class:`Sandbox` owns one ``lupa.lua54.LuaRuntime`` (never LuaJIT,
whose compiled code never calls the count hook): nothing is shared between
programs, not even the string metatable. The runtime has no ``python``
global and no eval; user code sees the program API and a whitelist of the
standard library (:mod:`bms.logic._prelude`). A run is bounded by an
instruction budget (a count hook, cleared after every run) and the
runtime's memory by ``max_memory``; a ``pcall`` or ``xpcall`` in user code
cannot swallow either.

A run returns a :class:`RunResult`: the writes it asks for, the alarm
requests, the log lines, its :class:`Trace` and the new persistent state.
A run that fails leaves nothing written and its persistent state as it was
before the run (the outputs of the program hold their last value).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
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


class RunResult(msgspec.Struct, frozen=True):
    """The outcome of one run. ``fault`` is None, "error", "budget" or "memory"."""

    program: str
    at: float
    ok: bool
    error: str | None
    fault: str | None
    writes: tuple[Write, ...]
    alarms: tuple[AlarmRequest, ...]
    logs: tuple[LogLine, ...]
    trace: Trace
    state: dict[str, Any]


def _py(value: Any, depth: int = 0) -> Any:
    """A Lua value as plain Python (tables: lists when they are sequences, else dicts)."""
    if lupa.lua_type(value) != "table":
        return value if isinstance(value, _SCALARS) or value is None else None
    if depth > 32:
        return None
    items = list(value.items())
    if (
        items
        and all(isinstance(k, int) and not isinstance(k, bool) for k, _ in items)
        and {k for k, _ in items} == set(range(1, len(items) + 1))
    ):
        return [_py(v, depth + 1) for _, v in sorted(items)]
    return {str(k): _py(v, depth + 1) for k, v in items}


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
        compile_, configure, self._run, self._outputs, self._get_state, self._set_state = self._runtime.execute(PRELUDE)
        configure(compiled.priority, self._runtime.table_from({p: True for p in compiled.writes}))
        chunk = compile_(compiled.lua, compiled.name)
        if isinstance(chunk, tuple):
            raise LogicError(f"program {compiled.name}: Lua does not compile: {chunk[1]}")
        self._chunk = chunk
        self._nslots = len(compiled.slots)
        self._state: dict[str, Any] = {"blocks": {}, "user": {}}
        if state:
            self.load_state(state)

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> dict[str, Any]:
        """The persistent state after the last good run: {"blocks": ..., "user": ...}."""
        return self._state

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Start from a saved state (as :attr:`state` gave it)."""
        blocks, user = state.get("blocks") or {}, state.get("user") or {}
        if not isinstance(blocks, dict) or not isinstance(user, dict):
            raise LogicError(f"program {self.compiled.name}: saved state is not {{blocks, user}} tables")
        self._set_state(self._runtime.table_from(blocks, recursive=True), self._runtime.table_from(user, recursive=True))
        self._state = {"blocks": blocks, "user": user}

    def memory_used(self) -> int:
        return int(self._runtime.get_memory_used())

    # ------------------------------------------------------------------ runs

    def run(self, inputs: Mapping[str, Value] | None = None, schedules: Mapping[str, Value] | None = None) -> RunResult:
        """One run at the clock's present time: the program reads ``inputs`` and ``schedules``."""
        now = self.clock.now()
        inputs = dict(inputs) if inputs else {}
        for key, value in inputs.items():
            if not isinstance(value, _SCALARS):
                raise LogicError(f"program {self.compiled.name}: input {key} is a {type(value).__name__}, not a value")
        sched = dict(schedules) if schedules else {}
        for key, value in sched.items():
            if not isinstance(value, _SCALARS):
                raise LogicError(f"program {self.compiled.name}: schedule {key} is a {type(value).__name__}, not a value")
        table_from = self._runtime.table_from
        started = time.perf_counter()
        try:
            ok, fault, err, nw, na, nl, w, a, lg = self._run(self._chunk, now, table_from(inputs), table_from(sched), self.budget)
        except lupa.LuaMemoryError:
            ok, fault, err, nw, na, nl, w, a, lg = False, "memory", "not enough memory", 0, 0, 0, None, None, None
        except lupa.LuaError as exc:  # the runner itself failed: never user-visible otherwise
            ok, fault, err, nw, na, nl, w, a, lg = False, "error", str(exc), 0, 0, 0, None, None, None
        duration = time.perf_counter() - started
        logs = tuple(LogLine(str(lg[i]), str(lg[i + 1])) for i in range(1, nl, 2)) if nl else ()
        outputs: dict[str, Any] = {}
        if self._nslots:
            values = self._outputs(self._nslots)
            outputs = dict(zip(self.compiled.slots, values if self._nslots > 1 else (values,), strict=True))
        if ok:
            writes = tuple(Write(w[i], w[i + 1], int(w[i + 2])) for i in range(1, nw, 3)) if nw else ()
            alarms = tuple(AlarmRequest(a[i], bool(a[i + 1]), a[i + 2], a[i + 3]) for i in range(1, na, 4)) if na else ()
            blocks, user = self._get_state()
            self._state = {"blocks": _py(blocks), "user": _py(user)}
        else:
            writes, alarms = (), ()
            self.load_state(self._state)  # back to the state before the run
        trace = Trace(now, inputs, outputs, writes, duration, None if ok else str(err))
        return RunResult(
            self.compiled.name, now, bool(ok), None if ok else str(err), fault, writes, alarms, logs, trace, self._state
        )


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
