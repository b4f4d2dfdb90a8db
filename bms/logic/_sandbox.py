"""The sandbox: one compiled program in its own PUC Lua 5.4 runtime, run with a budget.

Each :class:`Sandbox` owns one ``lupa.lua54.LuaRuntime`` (never LuaJIT,
whose compiled code never calls the count hook): nothing is shared between
programs, not even the string metatable. The runtime has no ``python``
global and no eval; user code sees the program API and a whitelist of the
standard library (:mod:`bms.logic._prelude`). A run is bounded by an
instruction budget (one count hook per runtime, its count reset per run) and the
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
        compile_, configure, self._run, self._outputs_of, self._get_state, self._set_state = self._runtime.execute(PRELUDE)
        self._reads = compiled.reads
        self._now = clock.now
        self._read_set = frozenset(compiled.reads)
        self._write_points = (None, *compiled.writes)  # Lua's write(): a point's place, 1-based
        configure(compiled.priority, self._runtime.table_from({p: i for i, p in enumerate(compiled.writes, 1)}),
                  self._runtime.table_from({p: i for i, p in enumerate(compiled.reads, 1)}), self.budget, max(keep, 1))
        chunk = compile_(compiled.lua, compiled.name)
        if isinstance(chunk, tuple):
            raise LogicError(f"program {compiled.name}: Lua does not compile: {chunk[1]}")
        self._chunk = chunk
        self._nslots = len(compiled.slots)
        # only user code (hand-written, CustomScript) can fail half way through a run by its own doing: its
        # runs copy the state first, so that a failed run leaves the state of before
        self._snapshot = compiled.hand_written or "CustomScript" in compiled.block_types
        self._state: dict[str, Any] = {"blocks": {}, "user": {}}
        self._fresh = True  # False: a run changed the state in Lua since _state was copied out
        if state:
            self.load_state(state)

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> dict[str, Any]:
        """The persistent state after the last good run: {"blocks": ..., "user": ...}.

        Copied out of Lua only when asked for after a run (a run leaves it in Lua)."""
        if not self._fresh:
            blocks, user = self._get_state()
            self._state = {"blocks": _py(blocks), "user": _py(user)}
            self._fresh = True
        return self._state

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Start from a saved state (as :attr:`state` gave it)."""
        blocks, user = state.get("blocks") or {}, state.get("user") or {}
        if not isinstance(blocks, dict) or not isinstance(user, dict):
            raise LogicError(f"program {self.compiled.name}: saved state is not {{blocks, user}} tables")
        self._set_state(self._runtime.table_from(blocks, recursive=True), self._runtime.table_from(user, recursive=True))
        self._state = {"blocks": blocks, "user": user}
        self._fresh = True

    def memory_used(self) -> int:
        return int(self._runtime.get_memory_used())

    # ------------------------------------------------------------------ runs

    def _refuse(self, what: str, values: Mapping[str, Any]) -> None:
        key, value = next((k, v) for k, v in values.items() if not isinstance(v, _SCALARS))
        raise LogicError(f"program {self.compiled.name}: {what} {key} is a {type(value).__name__}, not a value")

    def run(self, inputs: Mapping[str, Value] | None = None, schedules: Mapping[str, Value] | None = None) -> RunResult:
        """One run at the clock's present time: the program reads ``inputs`` and ``schedules``.

        One call into Lua: the values of the declared reads go in as arguments (any other inputs: one
        table), and the run's writes, alarm requests and log lines come back as one tuple; the block
        outputs stay in Lua until a trace is asked for.
        """
        now = self._now()
        args: tuple[Any, ...] = ()
        tin: Any = None
        if inputs:
            for value in inputs.values():
                if not isinstance(value, _SCALARS):
                    self._refuse("input", inputs)
            if inputs.keys() <= self._read_set:  # the fast way: the values as arguments, no table
                args = tuple(map(inputs.get, self._reads))
                inputs = None  # the trace makes its dict from args, when asked for
            else:
                inputs = dict(inputs)
                tin = self._runtime.table_from(inputs)
        else:
            inputs = {}
        tsched: Any = None
        if schedules:
            for value in schedules.values():
                if not isinstance(value, _SCALARS):
                    self._refuse("schedule", schedules)
            tsched = self._runtime.table_from(schedules)
        nslots = self._nslots
        started = time.perf_counter()
        try:
            r = self._run(self._chunk, now, tin, tsched, self.budget, nslots, self._snapshot, len(args), *args)
        except lupa.LuaMemoryError:
            r = (False, "memory", "not enough memory", 0, 0, 0, 0)
        except lupa.LuaError as exc:  # the runner itself failed: never user-visible otherwise
            r = (False, "error", str(exc), 0, 0, 0, 0)
        duration = time.perf_counter() - started
        ok, fault, err, gen, nw, na, nl = r[:7]
        self._fresh = False
        i = 7
        writes: tuple[Write, ...] = ()
        alarms: tuple[AlarmRequest, ...] = ()
        logs: tuple[LogLine, ...] = ()
        if nw:
            points = self._write_points
            writes = tuple([Write(points[r[j]], r[j + 1], r[j + 2]) for j in range(i, i + nw, 3)])
            i += nw
        if na:
            alarms = tuple([AlarmRequest(r[j], r[j + 1], r[j + 2], r[j + 3]) for j in range(i, i + na, 4)])
            i += na
        if nl:
            logs = tuple([LogLine(str(r[j]), str(r[j + 1])) for j in range(i, i + nl, 2)])
        return RunResult(self.compiled.name, now, bool(ok), None if ok else str(err), fault, writes, alarms, logs,
                         duration, inputs, args, gen, self)

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
