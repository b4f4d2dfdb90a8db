"""The logic engine's pure core: programs of blocks compiled to sandboxed Lua, replay, signed bundles.

No threads, no actors: the logic engine component owns a :class:`Sandbox`
per program, decides when each runs, and applies what a run returns.

Programs (``conf/logic/*.toml``, see :mod:`bms.logic._program`):

* :func:`load_program` / :func:`program_from_text` -> :class:`Program` (shape errors: ConfigError);
* :func:`validate` (every problem, one line each) / :func:`check` (-> :class:`Graph`, or ConfigError);
  ``known_points`` is the site's point ids;
* :data:`BLOCK_TYPES` -- the block library: PointRead, PointWrite, VirtualPoint, Constant, Math,
  Scale, RampLimit, Logic, Compare, Select, Latch, OneShot, Timing, PID, Sequence, ScheduleRead,
  AlarmTrigger, Log, CustomScript;
* :func:`compile_program` -> :class:`CompiledProgram`: one Lua chunk, its output ``slots``, the
  points it ``reads`` and ``writes``, the ``schedules`` it asks for, its trigger (``interval``,
  ``on_change``), ``priority`` and ``budget``.

Running (the engine's side):

* ``Sandbox(compiled, clock, budget=..., max_memory=..., state=saved, keep=N)``: one PUC Lua 5.4
  runtime per program. ``run(inputs, schedules)`` -- ``inputs`` the present values of
  ``compiled.reads``, ``schedules`` of ``compiled.schedules`` (``NAME`` and ``NAME/occupied``) --
  is one call into Lua and returns a :class:`RunResult`: ``writes`` (:class:`Write`: point, value
  or None to release, priority), ``alarms`` (:class:`AlarmRequest` for the alarm engine), ``logs``
  (:class:`LogLine`), ``trace`` (:class:`Trace`: inputs, each block's output, writes, duration,
  error; built when asked for, while the run is among the last ``keep``) and ``state`` (copied out
  of Lua when asked for; persist it, give it back as ``state=`` after a restart). A failed run
  (``fault``: error, budget, memory) writes nothing: the outputs hold; a program with user code
  (hand-written, CustomScript) also keeps the state of before.
* :class:`FaultCounter` per program: ``record(result)`` is True when the program must be disabled
  (``limit`` budget or memory faults in a row); ``reason`` is the line for status and the log.
* :func:`enforce` applies a bundle's :class:`Constraint` (limits, max step, interlocks) to a write.
* :func:`replay` runs a compiled program over recorded series on a manual clock: what it would
  have written, and when (:class:`ReplayResult`).

The engine's own pieces: :class:`LogicSection` (``[logic]``), :func:`load_directory` (a directory's
programs validated against the site, each problem one line), :class:`RunningProgram` (one program's
sandbox, faults, traces and last writes; :meth:`~RunningProgram.outcome` -> the writes to make),
:class:`LogicStore` (logic.db: states, disables, outputs).

Bundles: :func:`build` (a directory with ``bundle.toml`` -> signed archive bytes),
:func:`verify` (bytes or path + trusted public keys -> :class:`Bundle`, or :class:`BundleRefused`
in one line), :func:`migrate` (an older manifest's schema_version), :func:`generate_key`,
:func:`load_private_key`, :func:`parse_public_key`, :func:`public_key_text`, :func:`key_id`.
"""

from bms.logic._bundle import (
    SCHEMA_VERSION,
    Bundle,
    BundleRefused,
    Manifest,
    ProgramEntry,
    build,
    migrate,
    sign,
    verify,
)
from bms.logic._compile import CompiledProgram, compile_graph, compile_program
from bms.logic._constraints import Constraint, Interlock, enforce
from bms.logic._keys import generate_key, key_id, load_private_key, parse_public_key, public_key_text
from bms.logic._library import BlockType, Param, Port
from bms.logic._program import DEFAULT_PRIORITY, Block, Program, Wire, load_program, program_from_text
from bms.logic._replay import ReplayResult, ReplayWrite, changes, replay
from bms.logic._running import Loaded, RunningProgram, load_directory
from bms.logic._sandbox import (
    DEFAULT_BUDGET,
    DEFAULT_MAX_MEMORY,
    AlarmRequest,
    FaultCounter,
    LogLine,
    RunResult,
    Sandbox,
    Trace,
    Value,
    Write,
)
from bms.logic._settings import LogicSection
from bms.logic._store import LogicStore
from bms.logic._validate import BLOCK_TYPES, Graph, Node, analyse, check, validate

__all__ = [
    "BLOCK_TYPES",
    "DEFAULT_BUDGET",
    "DEFAULT_MAX_MEMORY",
    "DEFAULT_PRIORITY",
    "SCHEMA_VERSION",
    "AlarmRequest",
    "Block",
    "BlockType",
    "Bundle",
    "BundleRefused",
    "CompiledProgram",
    "Constraint",
    "FaultCounter",
    "Graph",
    "Interlock",
    "Loaded",
    "LogLine",
    "LogicSection",
    "LogicStore",
    "Manifest",
    "Node",
    "Param",
    "Port",
    "Program",
    "ProgramEntry",
    "ReplayResult",
    "ReplayWrite",
    "RunResult",
    "RunningProgram",
    "Sandbox",
    "Trace",
    "Value",
    "Wire",
    "Write",
    "analyse",
    "build",
    "changes",
    "check",
    "compile_graph",
    "compile_program",
    "enforce",
    "generate_key",
    "key_id",
    "load_directory",
    "load_private_key",
    "load_program",
    "migrate",
    "parse_public_key",
    "program_from_text",
    "public_key_text",
    "replay",
    "sign",
    "validate",
    "verify",
]
