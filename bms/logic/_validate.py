"""Validation of a program: every problem at once, one line each, naming the culprit.

:func:`analyse` resolves a block program into a :class:`Graph` (blocks in
execution order with their parameters, ports and wires) and collects every
problem: unknown block types and parameters (with "did you mean"), missing
or ill-typed parameters, unknown points (given the site's point ids), wires
to unknown blocks or ports, port type mismatches, inputs wired twice or not
at all, Lua syntax errors, and cycles named with the blocks in them.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import lupa.lua54 as lupa

from bms.errors import ConfigError
from bms.logic._blocks_control import CONTROL_BLOCKS
from bms.logic._blocks_io import IO_BLOCKS
from bms.logic._blocks_math import MATH_BLOCKS
from bms.logic._library import REQUIRED, BlockType, Param, Port
from bms.logic._program import Block, Program

BLOCK_TYPES: Mapping[str, BlockType] = {t.name: t for t in (*IO_BLOCKS, *MATH_BLOCKS, *CONTROL_BLOCKS)}
"""The block library by type name."""

_ID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Node:
    """A resolved block: parameters with defaults applied, its ports, and what feeds each input."""

    block: Block
    kind: BlockType
    params: Mapping[str, Any]
    inputs: Mapping[str, Port]
    outputs: Mapping[str, str]
    feeds: Mapping[str, tuple[str, str]]
    """input port -> (source block id, source port)"""


@dataclass(frozen=True)
class Graph:
    """A block program in execution order."""

    program: Program
    nodes: tuple[Node, ...]

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(f"{src}.{port}", f"{n.block.id}.{inp}") for n in self.nodes for inp, (src, port) in n.feeds.items()]


def _suggest(word: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _param_problem(name: str, spec: Param, value: Any, known_points: Collection[str] | None) -> str | None:
    kind = spec.kind
    if kind in ("number", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float) or (kind == "int" and not isinstance(value, int)):
            return f"{name} must be {'an integer' if kind == 'int' else 'a number'}, not {value!r}"
        if not math.isfinite(value):
            return f"{name} must be finite"
        if spec.positive and value <= 0:
            return f"{name} must be above 0, not {value}"
        if spec.minimum is not None and value < spec.minimum:
            return f"{name} must be at least {spec.minimum:g}, not {value}"
        if spec.maximum is not None and value > spec.maximum:
            return f"{name} must be at most {spec.maximum:g}, not {value}"
    elif kind == "bool" and not isinstance(value, bool):
        return f"{name} must be true or false, not {value!r}"
    elif kind in ("str", "code", "point") and (not isinstance(value, str) or not value):
        return f"{name} must be a non-empty string"
    elif kind == "point" and known_points is not None and value not in known_points:
        return f"unknown point {value!r}{_suggest(value, known_points)}"
    elif kind == "choice" and value not in spec.choices:
        return f"{name} must be one of {', '.join(spec.choices)}, not {value!r}{_suggest(str(value), spec.choices)}"
    elif kind == "value" and (not isinstance(value, int | float) or (not isinstance(value, bool) and not math.isfinite(value))):
        return f"{name} must be a number or true/false, not {value!r}"
    elif kind == "ports" and not isinstance(value, dict):
        return f"{name} must be a table of port name = type"
    return None


def _resolve_params(
    block: Block, kind: BlockType, program: Program, known_points: Collection[str] | None
) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    params: dict[str, Any] = {}
    for name in block.params:
        if name not in kind.params:
            problems.append(
                f"unknown parameter {name!r}{_suggest(name, kind.params)} (known: {', '.join(kind.params) or 'none'})"
            )
    for name, spec in kind.params.items():
        if name in block.params:
            value = block.params[name]
            problem = _param_problem(name, spec, value, known_points)
            if problem:
                problems.append(problem)
                if spec.kind == "point" and isinstance(value, str) and value:
                    params[name] = value  # an unknown point still lets the wires be checked
                continue
            params[name] = float(value) if spec.kind == "number" else value
        elif spec.default is REQUIRED:
            problems.append(f"missing parameter {name!r}")
        else:
            params[name] = spec.default
    if "priority" in kind.params and params.get("priority") is None:
        params["priority"] = program.priority
    if not problems:
        problems.extend(kind.check(params))
    return params, problems


def lua_syntax(code: str, name: str) -> str | None:
    """The syntax error of a Lua chunk, or None. Nothing is run."""
    runtime = lupa.LuaRuntime(register_eval=False, register_builtins=False)
    check = runtime.eval("function(code, name) local f, err = load(code, '=' .. name, 't', {}) return err end")
    err = check(code, name)
    return None if err is None else str(err)


def _endpoint(
    text: str, nodes: Mapping[str, tuple[Block, Mapping[str, Port], Mapping[str, str]]], outgoing: bool
) -> tuple[str, str] | str:
    block_id, _, port = text.partition(".")
    if block_id not in nodes:
        return f"unknown block {block_id!r}{_suggest(block_id, nodes)}"
    _block, inputs, outputs = nodes[block_id]
    ports: Collection[str] = outputs if outgoing else inputs
    side = "output" if outgoing else "input"
    if not port:
        if outgoing and len(ports) > 1 and "out" in ports:  # the main output (ScheduleRead's value)
            return block_id, "out"
        if len(ports) != 1:
            return f"{block_id!r} has {len(ports)} {side} ports ({', '.join(ports) or 'none'}): name one as {block_id}.PORT"
        port = next(iter(ports))
    if port not in ports:
        return f"{block_id!r} has no {side} port {port!r}{_suggest(port, ports)} ({side}s: {', '.join(ports) or 'none'})"
    return block_id, port


def _cycles(ids: list[str], deps: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan), members in file order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in deps[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in deps[v]:
                found.append(sorted(comp, key=ids.index))

    for v in ids:
        if v not in index:
            visit(v)
    return found


def analyse(program: Program, known_points: Collection[str] | None = None) -> tuple[Graph | None, list[str]]:
    """The program's graph (None when it has problems) and every problem, one line each."""
    src = program.source or program.name
    problems: list[str] = []
    reads_schedule = any(b.type == "ScheduleRead" for b in program.blocks)  # runs when the schedule changes
    if program.interval <= 0 and not program.on_change and not reads_schedule:
        problems.append(f"{src}: needs an interval, on_change points or a ScheduleRead (it would never run)")
    points = list(program.on_change)
    if program.hand_written:
        points += [*program.reads, *program.writes]
    if known_points is not None:
        for point in dict.fromkeys(points):
            if point not in known_points:
                problems.append(f"{src}: unknown point {point!r}{_suggest(point, known_points)}")
    if program.hand_written:
        err = lua_syntax(program.lua or "", program.name)
        if err:
            problems.append(f"{src}: lua: {err}")
        return (None if problems else Graph(program, ())), problems

    resolved: dict[str, tuple[Block, Mapping[str, Port], Mapping[str, str]]] = {}
    params_of: dict[str, dict[str, Any]] = {}
    for i, block in enumerate(program.blocks):
        where = f"{src}: blocks[{i}] ({block.id})"
        if not _ID.match(block.id):
            problems.append(f"{where}: id must be letters, digits, _ and - only")
            continue
        if block.id in resolved:
            problems.append(f"{where}: duplicate block id")
            continue
        kind = BLOCK_TYPES.get(block.type)
        if kind is None:
            problems.append(f"{where}: unknown block type {block.type!r}{_suggest(block.type, BLOCK_TYPES)}")
            continue
        params, bad = _resolve_params(block, kind, program, known_points)
        problems.extend(f"{where}: {block.type}: {p}" for p in bad)
        if not set(kind.params) <= set(params):
            continue
        inputs, outputs = kind.ports(params)
        resolved[block.id] = (block, inputs, outputs)
        params_of[block.id] = params
        if block.type == "CustomScript":
            err = lua_syntax(f"return function() {params['code']}\nend", f"{program.name}.{block.id}")
            if err:
                problems.append(f"{where}: CustomScript: code: {err}")

    feeds: dict[str, dict[str, tuple[str, str]]] = {b: {} for b in resolved}
    broken = {b.id for b in program.blocks} - set(resolved)
    for i, wire in enumerate(program.wires):
        where = f"{src}: wires[{i}] ({wire.source} -> {wire.target})"
        if wire.source.partition(".")[0] in broken or wire.target.partition(".")[0] in broken:
            continue  # its block is already reported
        source = _endpoint(wire.source, resolved, outgoing=True)
        target = _endpoint(wire.target, resolved, outgoing=False)
        for end in (source, target):
            if isinstance(end, str):
                problems.append(f"{where}: {end}")
        if isinstance(source, str) or isinstance(target, str):
            continue
        out_type = resolved[source[0]][2][source[1]]
        in_type = resolved[target[0]][1][target[1]].type
        if "any" not in (out_type, in_type) and out_type != in_type:
            problems.append(f"{where}: port type mismatch: {wire.source} is {out_type}, {wire.target} takes {in_type}")
            continue
        if target[1] in feeds[target[0]]:
            problems.append(f"{where}: input {target[0]}.{target[1]} is already wired")
            continue
        feeds[target[0]][target[1]] = source
    for i, block in enumerate(program.blocks):
        if block.id not in resolved or resolved[block.id][0] is not block:
            continue
        for port_name, port in resolved[block.id][1].items():
            if port.required and port_name not in feeds[block.id]:
                problems.append(f"{src}: blocks[{i}] ({block.id}): input {port_name!r} is not wired")

    ids = list(resolved)
    deps = {b: {s for s, _ in feeds[b].values()} for b in ids}
    for cycle in _cycles(ids, deps):
        problems.append(f"{src}: cycle between blocks {', '.join(cycle)}")
    if problems:
        return None, problems
    order: list[str] = []
    done: set[str] = set()
    pending = list(ids)
    while pending:  # Kahn's algorithm, keeping the file's order among ready blocks
        ready = [b for b in pending if deps[b] <= done]
        for b in ready:
            order.append(b)
            done.add(b)
        pending = [b for b in pending if b not in done]
    nodes = tuple(
        Node(resolved[b][0], BLOCK_TYPES[resolved[b][0].type], params_of[b], resolved[b][1], resolved[b][2], feeds[b])
        for b in order
    )
    return Graph(program, nodes), []


def validate(program: Program, known_points: Collection[str] | None = None) -> list[str]:
    """Every problem of ``program`` (empty when it is good), one line each."""
    return analyse(program, known_points)[1]


def check(program: Program, known_points: Collection[str] | None = None) -> Graph:
    """The program's graph, or a ConfigError carrying every problem."""
    graph, problems = analyse(program, known_points)
    if graph is None:
        raise ConfigError(problems[0] if len(problems) == 1 else f"{len(problems)} problems: {problems[0]}", problems)
    return graph
