"""The program file: a TOML document of blocks and wires, or of hand-written Lua.

::

    name = "sat-reset"              # optional: the file's stem (letters, digits, _ - .; not a reserved name)
    description = "..."
    interval = 10.0                 # seconds between periodic runs (0: only on change)
    on_change = ["ahu1/oat"]        # points whose change triggers a run
    priority = 10                   # default priority of the program's writes
    budget = 1000000                # Lua instructions per run (optional)

    [[blocks]]
    id = "oat"
    type = "PointRead"
    point = "ahu1/oat"              # every other key is a parameter of the block

    [[wires]]
    from = "oat.out"                # block.port ("oat" alone when the block has one output)
    to = "reset.in"

A hand-written program has ``lua = '''...'''`` instead of blocks and wires
(same API: read, write, state_get, state_set, now, log, schedule, alarm) and
declares the points it may read and write (``reads``, ``writes``).

Parsing here checks shapes only (keys, types); :func:`bms.logic.validate`
checks meaning (block types, ports, points, cycles) and reports every
problem at once.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from bms.errors import ConfigError

ParamValue = float | int | bool | str | list[Any] | dict[str, Any]

DEFAULT_PRIORITY = 10
"""Where a program writes unless it says otherwise (above schedules at 12-16, below operators at 8)."""


class Block(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One block of a program: its id, its type and its parameters."""

    id: str
    type: str
    params: dict[str, Any] = {}


class Wire(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A wire from one block's output port to another's input port (``block.port``)."""

    source: str
    target: str


class Program(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A program as written: blocks and wires, or hand-written Lua (``lua``)."""

    name: str
    description: str = ""
    interval: float = 0.0
    on_change: tuple[str, ...] = ()
    priority: int = DEFAULT_PRIORITY
    budget: int | None = None
    blocks: tuple[Block, ...] = ()
    wires: tuple[Wire, ...] = ()
    lua: str | None = None
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    source: str = ""
    """Where the program came from (a file path), for error lines."""

    @property
    def hand_written(self) -> bool:
        return self.lua is not None


_TOP_KEYS = ("name", "description", "interval", "on_change", "priority", "budget", "blocks", "wires", "lua", "reads", "writes")


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
RESERVED_NAMES = ("bundles", "health", "reload", "start", "status", "stop", "stream")
"""Names a program cannot have: the engine's own API routes beside ``/api/logic/{program}``."""


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def parse_program(data: Mapping[str, Any], source: str, default_name: str = "") -> Program:
    """A Program from a decoded TOML document; every shape problem at once (ConfigError)."""
    problems: list[str] = []

    def bad(where: str, message: str) -> None:
        problems.append(f"{source}: {where}: {message}")

    for key in data:
        if key not in _TOP_KEYS:
            bad(key, f"unknown key (known: {', '.join(_TOP_KEYS)})")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        bad("name", f"{name!r} is not a program name (letters, digits, '_', '-' and '.', starting with a letter "
                    "or digit)")
        name = default_name or "?"
    elif name in RESERVED_NAMES:
        bad("name", f"{name!r} is taken by the engine itself (/api/logic/{name}); reserved: "
                    f"{', '.join(RESERVED_NAMES)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        bad("description", "must be a string")
        description = ""
    interval = data.get("interval", 0.0)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 0:
        bad("interval", "must be a number of seconds >= 0")
        interval = 0.0
    priority = data.get("priority", DEFAULT_PRIORITY)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 16:
        bad("priority", "must be an integer priority 1-16")
        priority = DEFAULT_PRIORITY
    budget = data.get("budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1000):
        bad("budget", "must be an integer number of instructions >= 1000")
        budget = None
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("on_change", "reads", "writes"):
        value = data.get(key, [])
        if not _strings(value):
            bad(key, "must be a list of point ids")
            value = []
        lists[key] = tuple(value)
    lua = data.get("lua")
    if lua is not None and not isinstance(lua, str):
        bad("lua", "must be a string of Lua code")
        lua = None
    blocks: list[Block] = []
    raw_blocks = data.get("blocks", [])
    if not isinstance(raw_blocks, list):
        bad("blocks", "must be an array of tables ([[blocks]])")
        raw_blocks = []
    for i, raw in enumerate(raw_blocks):
        if not isinstance(raw, dict):
            bad(f"blocks[{i}]", "must be a table")
            continue
        block_id, block_type = raw.get("id"), raw.get("type")
        if not isinstance(block_id, str) or not block_id:
            bad(f"blocks[{i}]", "needs an id (a string)")
            continue
        if not isinstance(block_type, str) or not block_type:
            bad(f"blocks[{i}] ({block_id})", "needs a type (a string)")
            continue
        params = {k: v for k, v in raw.items() if k not in ("id", "type")}
        blocks.append(Block(id=block_id, type=block_type, params=params))
    wires: list[Wire] = []
    raw_wires = data.get("wires", [])
    if not isinstance(raw_wires, list):
        bad("wires", "must be an array of tables ([[wires]])")
        raw_wires = []
    for i, raw in enumerate(raw_wires):
        if not isinstance(raw, dict) or set(raw) != {"from", "to"}:
            bad(f"wires[{i}]", "must be a table with exactly 'from' and 'to'")
            continue
        if not isinstance(raw["from"], str) or not isinstance(raw["to"], str):
            bad(f"wires[{i}]", "'from' and 'to' must be strings (block.port)")
            continue
        wires.append(Wire(source=raw["from"], target=raw["to"]))
    if lua is not None and (blocks or wires):
        bad("lua", "a program is either blocks and wires or hand-written Lua, not both")
    if lua is None and not blocks:
        bad("blocks", "a program needs blocks (or hand-written lua)")
    if problems:
        raise ConfigError(problems[0], problems)
    return Program(
        name=name,
        description=description,
        interval=float(interval),
        on_change=lists["on_change"],
        priority=priority,
        budget=budget,
        blocks=tuple(blocks),
        wires=tuple(wires),
        lua=lua,
        reads=lists["reads"],
        writes=lists["writes"],
        source=source,
    )


def load_program(path: Path | str) -> Program:
    """Read and parse one program file (shape only; see :func:`bms.logic.validate`)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a program file") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: TOML syntax error: {err}") from None
    return parse_program(data, str(path), default_name=path.stem)


def program_from_text(text: str, source: str = "<program>", default_name: str = "program") -> Program:
    """Parse a program from TOML text (bundles, tests)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: TOML syntax error: {err}") from None
    return parse_program(data, source, default_name=default_name)
