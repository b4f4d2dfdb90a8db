"""What the logic engine holds per program, and the decisions it takes that need no thread.

* :func:`load_directory` -- the program files of a directory (and the constraints of its
  ``bundle.toml``), validated against the site's points: the compiled programs, and one line per
  program left out;
* :class:`RunningProgram` -- one program's sandbox, fault counter, last traces, triggers and what
  it last wrote; :meth:`RunningProgram.outcome` turns a run into the writes to make (constraints
  enforced, unchanged values left out) and the writes held back (with why).
"""

from __future__ import annotations

import tomllib
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from bms.clock import Clock
from bms.errors import ConfigError
from bms.logic._bundle import Bundle
from bms.logic._compile import CompiledProgram, compile_program
from bms.logic._constraints import Constraint, enforce
from bms.logic._program import Program, load_program, program_from_text
from bms.logic._sandbox import FaultCounter, RunResult, Sandbox, Trace, Value, Write
from bms.logic._settings import LogicSection
from bms.logic.messages import ProgramView

BUNDLE_FILE = "bundle.toml"


class _Constraints(msgspec.Struct, frozen=True):
    constraints: tuple[Constraint, ...] = ()


@dataclass
class Loaded:
    programs: list[tuple[Program, CompiledProgram]] = field(default_factory=list)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # the programs left out (file stems)


def program_directory(section: LogicSection, scenario: Path) -> Path:
    """Where the site's programs are: ``[logic] programs`` relative to the scenario's folder; unset,
    ``logic`` beside the scenario file if there is one, else ``../logic``."""
    base = scenario.parent
    if section.programs:
        return (base / Path(section.programs).expanduser()).resolve()
    beside = base / "logic"
    return (beside if beside.is_dir() else base.parent / "logic").resolve()


def load_directory(directory: Path, known_points: Collection[str] | None) -> Loaded:
    """Every ``*.toml`` program of ``directory`` that validates; each problem one line (the program left out)."""
    found = Loaded()
    if not directory.is_dir():
        return found
    bundle = directory / BUNDLE_FILE
    if bundle.is_file():
        try:
            found.constraints = {c.point: c for c in msgspec.convert(
                tomllib.loads(bundle.read_text(encoding="utf-8")), _Constraints).constraints}
        except (tomllib.TOMLDecodeError, msgspec.ValidationError, UnicodeDecodeError) as err:
            found.problems.append(f"{bundle}: constraints: {err}")
    names: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name == BUNDLE_FILE:
            continue
        try:
            program = load_program(path)
            if program.name in names:
                raise ConfigError(f"{path}: program {program.name} is already defined in {names[program.name]}")
            compiled = compile_program(program, known_points)
        except ConfigError as err:
            found.skipped.append(path.stem)
            found.problems.extend(err.problems)
            continue
        names[program.name] = path
        found.programs.append((program, compiled))
    return found


def load_bundle(bundle: Bundle, known_points: Collection[str] | None) -> Loaded:
    """A verified bundle's programs and constraints, validated against the site's points (as :func:`load_directory`)."""
    found = Loaded(constraints={c.point: c for c in bundle.manifest.constraints})
    version = bundle.manifest.version
    for entry in bundle.manifest.programs:
        source = f"bundle {version}: {entry.file}"
        try:
            program = program_from_text(bundle.files[entry.file].decode("utf-8"), source, default_name=entry.name)
            compiled = compile_program(program, known_points)
        except (ConfigError, UnicodeDecodeError, KeyError) as err:
            found.skipped.append(entry.name)
            found.problems.extend(err.problems if isinstance(err, ConfigError) else [f"{source}: {err}"])
            continue
        found.programs.append((program, compiled))
    return found


@dataclass
class RunningProgram:
    program: Program
    compiled: CompiledProgram
    sandbox: Sandbox
    faults: FaultCounter
    last_runs: deque[RunResult]  # the last trace_runs runs; their traces are built when asked for
    next_due: float = 0.0
    disabled: str = ""  # "" (running), "operator" or "fault"
    reason: str = ""
    runs: int = 0
    errors: int = 0
    last_run: float | None = None
    last_error: str = ""
    written: dict[str, Value] = field(default_factory=dict)  # point -> the value this program last wrote

    @classmethod
    def start(cls, program: Program, compiled: CompiledProgram, clock: Clock, *, budget: int, max_memory: int,
              fault_limit: int, trace_runs: int, state: Mapping[str, Any] | None = None) -> RunningProgram:
        sandbox = Sandbox(compiled, clock, budget=compiled.budget or budget, max_memory=max_memory, state=state,
                          keep=trace_runs + 1)
        return cls(program, compiled, sandbox, FaultCounter(fault_limit), deque(maxlen=trace_runs),
                   next_due=clock.monotonic() + compiled.interval)

    @property
    def name(self) -> str:
        return self.compiled.name

    @property
    def running(self) -> bool:
        return not self.disabled

    def record(self, result: RunResult) -> bool:
        """Count the run; True when it is the fault that disables the program."""
        self.runs += 1
        self.last_run = result.at
        self.last_runs.append(result)
        if not result.ok:
            self.errors += 1
            self.last_error = result.error or result.fault or "error"
        if self.faults.record(result):
            self.disabled, self.reason = "fault", self.faults.reason or "faulted"
            return True
        return False

    def traces(self, limit: int = 0) -> list[Trace]:
        """The traces of the last runs (oldest first), at most ``limit`` (0: all kept)."""
        runs = list(self.last_runs)
        return [r.trace for r in (runs[-limit:] if limit > 0 else runs)]

    def outcome(self, result: RunResult, values: Mapping[str, Value],
                constraints: Mapping[str, Constraint]) -> tuple[list[Write], list[str]]:
        """The writes to make (constraints applied, values this program already wrote left out), and why
        any write was held back."""
        writes: list[Write] = []
        held: list[str] = []
        for write in result.writes:
            constraint = constraints.get(write.point)
            if constraint is not None and write.value is not None:
                allowed, why = enforce(constraint, write, values, self.written.get(write.point))
                if allowed is None:
                    held.append(why or f"{write.point}: held")
                    continue
                write = allowed
            if write.point in self.written and self.written[write.point] == write.value:
                continue
            writes.append(write)
        return writes, held

    def view(self) -> ProgramView:
        c = self.compiled
        return ProgramView(
            name=c.name, description=self.program.description,
            state="running" if not self.disabled else ("faulted" if self.disabled == "fault" else "disabled"),
            reason=self.reason, interval=c.interval, on_change=c.on_change, priority=c.priority, reads=c.reads,
            writes=c.writes, block_types=c.block_types, hand_written=c.hand_written, source=self.program.source,
            runs=self.runs, errors=self.errors, last_run=self.last_run, last_error=self.last_error,
        )
