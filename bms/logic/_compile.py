"""The compiler: a block program, sorted topologically, becomes ONE Lua chunk.

The chunk is called once per run as ``chunk(S, O, NOW)``: ``S`` holds each
block's persistent state (``S["pid1"]``), ``O`` every output port's value
(slot k is ``CompiledProgram.slots[k-1]``, so ``O`` is the run's trace of
block outputs) and ``NOW`` the clock time in seconds. A hand-written
program is its own chunk, called the same way (it may ignore the arguments
and use now(), state_get and state_set).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import msgspec

from bms.logic._library import Emit, lua_literal
from bms.logic._program import Program
from bms.logic._validate import Graph, check


class CompiledProgram(msgspec.Struct, frozen=True):
    """What the sandbox runs: the Lua chunk and what the engine needs to feed and watch it."""

    name: str
    lua: str
    slots: tuple[str, ...]
    """``block.port`` of each output slot (Lua's O[1] is slots[0])."""
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    schedules: tuple[str, ...]
    interval: float
    on_change: tuple[str, ...]
    priority: int
    budget: int | None
    block_types: tuple[str, ...]
    nodes: tuple[tuple[str, str], ...]
    """(block id, block type) in execution order."""
    edges: tuple[tuple[str, str], ...]
    hand_written: bool = False


_STATE = re.compile(r"\bs\b")

_HEADER = """-- program {name}: compiled by bms.logic from {source}
local S, O, NOW = ...
local read, write, schedule, occupied, alarm = read, write, schedule, occupied, alarm
local log_at, tonum, tobool = log_at, tonum, tobool
"""


def compile_graph(graph: Graph) -> CompiledProgram:
    """Lua for a validated graph."""
    program = graph.program
    slot_of: dict[tuple[str, str], int] = {}
    slots: list[str] = []
    for node in graph.nodes:
        for port in node.outputs:
            slots.append(f"{node.block.id}.{port}")
            slot_of[(node.block.id, port)] = len(slots)
    parts = [_HEADER.format(name=program.name, source=(program.source or "<text>").replace("\n", " "))]
    reads: list[str] = []
    writes: list[str] = []
    schedules: list[str] = []
    for node in graph.nodes:
        inputs: dict[str, str] = {}
        for name, in_port in node.inputs.items():
            if name in node.feeds:
                inputs[name] = f"O[{slot_of[node.feeds[name]]}]"
            else:
                inputs[name] = lua_literal(None if in_port.required else in_port.default)
        emit = Emit(
            block_id=node.block.id,
            params=node.params,
            inputs=inputs,
            wired=frozenset(node.feeds),
            outputs={port: f"O[{slot_of[(node.block.id, port)]}]" for port in node.outputs},
        )
        key = lua_literal(node.block.id)
        body = node.kind.emit(emit)
        state = f"local s = S[{key}]\nif s == nil then s = {{}}; S[{key}] = s end\n" if _STATE.search(body) else ""
        parts.append(f"-- {node.block.id} ({node.block.type})\ndo\n{state}{body}\nend\n")
        reads.extend(node.kind.reads(node.params))
        writes.extend(node.kind.writes(node.params))
        if node.block.type == "ScheduleRead":
            schedules.append(node.params["schedule"])
    return CompiledProgram(
        name=program.name,
        lua="".join(parts),
        slots=tuple(slots),
        reads=tuple(dict.fromkeys(reads)),
        writes=tuple(dict.fromkeys(writes)),
        schedules=tuple(dict.fromkeys(schedules)),
        interval=program.interval,
        on_change=program.on_change,
        priority=program.priority,
        budget=program.budget,
        block_types=tuple(sorted({n.block.type for n in graph.nodes})),
        nodes=tuple((n.block.id, n.block.type) for n in graph.nodes),
        edges=tuple(graph.edges),
    )


def compile_program(program: Program, known_points: Collection[str] | None = None) -> CompiledProgram:
    """Validate and compile; a ConfigError carries every problem."""
    graph = check(program, known_points)
    if program.hand_written:
        return CompiledProgram(
            name=program.name,
            lua=program.lua or "",
            slots=(),
            reads=program.reads,
            writes=program.writes,
            schedules=(),
            interval=program.interval,
            on_change=program.on_change,
            priority=program.priority,
            budget=program.budget,
            block_types=(),
            nodes=(),
            edges=(),
            hand_written=True,
        )
    return compile_graph(graph)
