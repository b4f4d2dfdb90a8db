"""What a block type is: its parameters, its typed ports and the Lua it compiles to.

A :class:`BlockType` declares parameters (:class:`Param`), a function giving
its input and output ports for given parameters (ports may depend on them:
a Sequence of 4 stages has 4 outputs), and an emitter writing the block's
Lua. Port types are ``number``, ``bool`` and ``any`` (accepts either).

Compiled code conventions (see :mod:`bms.logic._compile`): every output port
is a slot ``O[k]`` of the program's output table (so the trace of a run is
that table), a block's persistent state is the table ``s``, ``NOW`` is the
clock time of the run in seconds, and the program's API functions (read,
write, schedule, alarm, log) are globals of the sandbox.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

PORT_TYPES = ("number", "bool", "any")
REQUIRED: Any = object()


@dataclass(frozen=True)
class Port:
    """An input port: its type, and the value it takes when nothing is wired to it."""

    type: str
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Param:
    """A parameter: kind (number, int, bool, str, point, choice, value, ports, code), default, bounds."""

    kind: str
    default: Any = REQUIRED
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    positive: bool = False
    maximum: float | None = None


@dataclass(frozen=True)
class Emit:
    """What an emitter gets: the block's id, parameters (defaults applied) and Lua expressions of its ports."""

    block_id: str
    params: Mapping[str, Any]
    inputs: Mapping[str, str]
    wired: frozenset[str]
    outputs: Mapping[str, str]

    def p(self, name: str) -> str:
        """A parameter as a Lua literal."""
        return lua_literal(self.params[name])


Ports = tuple[Mapping[str, Port], Mapping[str, str]]


@dataclass(frozen=True)
class BlockType:
    name: str
    summary: str
    params: Mapping[str, Param]
    ports: Callable[[Mapping[str, Any]], Ports]
    emit: Callable[[Emit], str]
    check: Callable[[Mapping[str, Any]], list[str]] = field(default=lambda _p: [])
    reads: Callable[[Mapping[str, Any]], tuple[str, ...]] = field(default=lambda _p: ())
    writes: Callable[[Mapping[str, Any]], tuple[str, ...]] = field(default=lambda _p: ())


def lua_literal(value: Any) -> str:
    """A Python scalar as Lua source (numbers, booleans, strings, None)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return repr(value)
    if isinstance(value, str):
        out = ['"']
        for byte in value.encode("utf-8"):
            char = chr(byte)
            if 32 <= byte < 127 and char not in '"\\':
                out.append(char)
            else:
                out.append(f"\\{byte:03d}")
        out.append('"')
        return "".join(out)
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def value_type(value: Any) -> str:
    """The port type of a constant."""
    return "bool" if isinstance(value, bool) else "number"


def fixed(inputs: Mapping[str, Port], outputs: Mapping[str, str]) -> Callable[[Mapping[str, Any]], Ports]:
    """Ports that do not depend on parameters."""
    return lambda _params: (inputs, outputs)


LUA_KEYWORDS = frozenset(
    [
        "and",
        "break",
        "do",
        "else",
        "elseif",
        "end",
        "false",
        "for",
        "function",
        "goto",
        "if",
        "in",
        "local",
        "nil",
        "not",
        "or",
        "repeat",
        "return",
        "then",
        "true",
        "until",
        "while",
    ]
)


def lua_name(name: str) -> bool:
    """Is ``name`` usable as a Lua local variable (a CustomScript port)?"""
    return name.isidentifier() and name.isascii() and name not in LUA_KEYWORDS and not name.startswith("_")
