"""Table tests of one block: its inputs fed from points, its outputs read from each run's trace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bms.clock import ManualClock
from bms.logic import BLOCK_TYPES, Block, Program, Sandbox, Wire, compile_program

Step = tuple[float, Mapping[str, Any]]
"""(seconds since the previous run, {input port: value})"""


def block_program(block_type: str, params: Mapping[str, Any], inputs: Mapping[str, str]) -> Program:
    """A program of the block under test, each of its ``inputs`` (port -> type) fed by a PointRead of 'in/PORT'."""
    blocks = [
        Block(id=f"in_{port}", type="PointRead", params={"point": f"in/{port}", "kind": kind}) for port, kind in inputs.items()
    ]
    blocks.append(Block(id="b", type=block_type, params=dict(params)))
    wires = [Wire(source=f"in_{port}.out", target=f"b.{port}") for port in inputs]
    return Program(name="table", interval=1.0, blocks=tuple(blocks), wires=tuple(wires))


def run_table(block_type: str, params: Mapping[str, Any], steps: Sequence[Step], **extra: Any) -> list[dict[str, Any]]:
    """Each run's outputs of block 'b' (port -> value); a failing run fails the test."""
    ports, _ = BLOCK_TYPES[block_type].ports({**_defaults(block_type), **params})
    kinds = {port: ("bool" if p.type == "bool" else "number") for port, p in ports.items()}
    fed = {port for _, values in steps for port in values}
    program = block_program(block_type, params, {p: kinds[p] for p in kinds if p in fed})
    clock = ManualClock(1000.0)
    sandbox = Sandbox(compile_program(program), clock, **extra)
    seen: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for dt, values in steps:
        clock.advance(dt)
        current.update({f"in/{k}": v for k, v in values.items()})
        result = sandbox.run(current)
        assert result.ok, result.error
        seen.append({k.removeprefix("b."): v for k, v in result.trace.outputs.items() if k.startswith("b.")})
    return seen


def _defaults(block_type: str) -> dict[str, Any]:
    return {name: p.default for name, p in BLOCK_TYPES[block_type].params.items() if p.default is not None}


def outs(rows: list[dict[str, Any]], port: str = "out") -> list[Any]:
    return [row.get(port) for row in rows]
