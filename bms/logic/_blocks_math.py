"""Arithmetic, logic, comparison, selection, latches and timers.

Every time-dependent block works on clock time (``NOW``), never on the
number of runs: a RampLimit of 0.5/s moves 5 units in 10 s whether the
program ran twice or a hundred times in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bms.logic._library import BlockType, Emit, Param, Port, fixed

NUM = Port("number")
BOOL = Port("bool")

_MATH_BINARY = {"add": "a + b", "sub": "a - b", "mul": "a * b", "min": "math.min(a, b)", "max": "math.max(a, b)"}
MATH_OPS = (*_MATH_BINARY, "div", "abs", "clamp")


def _math_ports(p: Mapping[str, Any]) -> tuple[dict[str, Port], dict[str, str]]:
    if p["op"] in ("abs", "clamp"):
        return {"a": NUM}, {"out": "number"}
    return {"a": NUM, "b": NUM}, {"out": "number"}


def _math(e: Emit) -> str:
    op, out = e.params["op"], e.outputs["out"]
    a = f"local a = {e.inputs['a']}\n"
    if op in _MATH_BINARY:
        return f"{a}local b = {e.inputs['b']}\n{out} = {_MATH_BINARY[op]}"
    if op == "div":  # a zero divisor holds the last quotient
        return f"{a}local b = {e.inputs['b']}\nif b ~= 0 then {out} = a / b elseif {out} == nil then {out} = 0 end"
    if op == "abs":
        return f"{a}{out} = math.abs(a)"
    return f"{a}if a < {e.p('low')} then a = {e.p('low')} elseif a > {e.p('high')} then a = {e.p('high')} end\n{out} = a"


def _math_check(p: Mapping[str, Any]) -> list[str]:
    if p["op"] != "clamp":
        return []
    if p.get("low") is None or p.get("high") is None:
        return ["op 'clamp' needs parameters low and high"]
    return [] if p["low"] <= p["high"] else [f"low {p['low']} is above high {p['high']}"]


MATH = BlockType(
    "Math",
    "add, sub, mul, div (holds on a zero divisor), min, max of a and b; abs of a; clamp a to [low, high]",
    {"op": Param("choice", choices=MATH_OPS), "low": Param("number", None), "high": Param("number", None)},
    _math_ports,
    _math,
    check=_math_check,
)


def _scale(e: Emit) -> str:
    clamp = ""
    if e.params["clamp"]:
        lo, hi = sorted((e.params["out_low"], e.params["out_high"]))
        clamp = f"\nif y < {lo!r} then y = {lo!r} elseif y > {hi!r} then y = {hi!r} end"
    return (
        f"local x = {e.inputs['in']}\n"
        f"local y = {e.p('out_low')} + (x - {e.p('in_low')}) * ({e.p('out_high')} - {e.p('out_low')}) / "
        f"({e.p('in_high')} - {e.p('in_low')}){clamp}\n{e.outputs['out']} = y"
    )


SCALE = BlockType(
    "Scale",
    "linear map of [in_low, in_high] onto [out_low, out_high], clamped unless clamp = false",
    {
        "in_low": Param("number"),
        "in_high": Param("number"),
        "out_low": Param("number"),
        "out_high": Param("number"),
        "clamp": Param("bool", True),
    },
    fixed({"in": NUM}, {"out": "number"}),
    _scale,
    check=lambda p: ["in_low and in_high must differ"] if p["in_low"] == p["in_high"] else [],
)


def _ramp(e: Emit) -> str:
    return (
        f"local x = {e.inputs['in']}\n"
        "if s.t == nil then s.y = x else\n"
        "  local dt = NOW - s.t\n  local dy = x - s.y\n"
        f"  local up, down = {e.p('rate_up')} * dt, {e.p('rate_down')} * dt\n"
        "  if dy > up then dy = up elseif dy < -down then dy = -down end\n"
        "  s.y = s.y + dy\nend\n"
        f"s.t = NOW\n{e.outputs['out']} = s.y"
    )


RAMP_LIMIT = BlockType(
    "RampLimit",
    "follows its input at most rate_up / rate_down units per second of clock time",
    {"rate_up": Param("number", positive=True), "rate_down": Param("number", positive=True)},
    fixed({"in": NUM}, {"out": "number"}),
    _ramp,
)

_LOGIC = {"and": "a and b", "or": "a or b", "xor": "a ~= b", "not": "not a"}


def _logic(e: Emit) -> str:
    b = "" if e.params["op"] == "not" else f"local b = {e.inputs['b']} and true or false\n"
    return f"local a = {e.inputs['a']} and true or false\n{b}{e.outputs['out']} = {_LOGIC[e.params['op']]}"


LOGIC = BlockType(
    "Logic",
    "and, or, xor of a and b; not a",
    {"op": Param("choice", choices=tuple(_LOGIC))},
    lambda p: ({"a": BOOL} if p["op"] == "not" else {"a": BOOL, "b": BOOL}, {"out": "bool"}),
    _logic,
)

# on: the condition that turns the output on; hold: the wider one that keeps it on (h: hysteresis)
_COMPARE = {
    "gt": ("a > b", "a > b - h"),
    "gte": ("a >= b", "a >= b - h"),
    "lt": ("a < b", "a < b + h"),
    "lte": ("a <= b", "a <= b + h"),
    "eq": ("math.abs(a - b) <= h", "math.abs(a - b) <= h"),
    "neq": ("math.abs(a - b) > h", "math.abs(a - b) > h"),
}


def _compare(e: Emit) -> str:
    on, hold = _COMPARE[e.params["op"]]
    b = e.inputs["b"] if "b" in e.wired else e.p("setpoint")
    return (
        f"local a, b, h = {e.inputs['a']}, {b}, {e.p('hysteresis')}\n"
        f"local q\nif s.q then q = {hold} else q = {on} end\n"
        f"s.q = q\n{e.outputs['out']} = q"
    )


COMPARE = BlockType(
    "Compare",
    "a op b (b: input or setpoint); once on, gt/gte stay on down to b - hysteresis, lt/lte up to b + "
    "hysteresis; eq/neq take hysteresis as the tolerance",
    {
        "op": Param("choice", choices=tuple(_COMPARE)),
        "hysteresis": Param("number", 0.0, minimum=0.0),
        "setpoint": Param("number", None),
    },
    lambda p: ({"a": NUM, "b": Port("number", None)}, {"out": "bool"}),
    _compare,
)


def _select(e: Emit) -> str:
    return (
        f"if {e.inputs['sel']} then {e.outputs['out']} = {e.inputs['if_true']} "
        f"else {e.outputs['out']} = {e.inputs['if_false']} end"
    )


SELECT = BlockType(
    "Select",
    "if_true when sel is true, else if_false",
    {"kind": Param("choice", "number", choices=("number", "bool"))},
    lambda p: ({"sel": BOOL, "if_true": Port(p["kind"]), "if_false": Port(p["kind"])}, {"out": p["kind"]}),
    _select,
)


def _latch(e: Emit) -> str:
    return (
        f"if {e.inputs['reset']} then s.q = false elseif {e.inputs['set']} then s.q = true end\n{e.outputs['out']} = s.q or false"
    )


LATCH = BlockType(
    "Latch",
    "set/reset latch (reset wins); keeps its state across runs and restarts",
    {},
    fixed({"set": BOOL, "reset": Port("bool", False)}, {"out": "bool"}),
    _latch,
)


def _one_shot(e: Emit) -> str:
    return (
        f"local x = {e.inputs['in']} and true or false\n"
        f"if x and not s.prev and (s.till == nil or NOW >= s.till) then s.till = NOW + {e.p('duration')} end\n"
        f"s.prev = x\n{e.outputs['out']} = s.till ~= nil and NOW < s.till"
    )


ONE_SHOT = BlockType(
    "OneShot",
    "true for `duration` seconds after its input rises (not retriggered while on)",
    {"duration": Param("number", positive=True)},
    fixed({"in": BOOL}, {"out": "bool"}),
    _one_shot,
)

TIMING_MODES = ("delay_on", "delay_off", "average", "rate")


def _timing(e: Emit) -> str:
    mode, out, x = e.params["mode"], e.outputs["out"], e.inputs["in"]
    if mode == "delay_on":
        return (
            f"local x = {x}\nif x then\n  if s.since == nil then s.since = NOW end\n"
            f"  {out} = NOW - s.since >= {e.p('seconds')}\nelse s.since = nil; {out} = false end"
        )
    if mode == "delay_off":
        return (
            f"local x = {x}\nif x then s.since = nil; s.q = true\nelseif s.q then\n"
            "  if s.since == nil then s.since = NOW end\n"
            f"  if NOW - s.since >= {e.p('seconds')} then s.q = false; s.since = nil end\nend\n{out} = s.q or false"
        )
    if mode == "rate":
        return (
            f"local x = {x}\nif s.t == nil then {out} = 0\n"
            f"elseif NOW > s.t then {out} = (x - s.x) / (NOW - s.t) end\ns.x = x\ns.t = NOW"
        )
    # average: the mean of the samples of the last `seconds`
    return (
        f"local x = {x}\nlocal ts, vs = s.ts, s.vs\n"
        "if ts == nil then ts = {}; vs = {}; s.ts = ts; s.vs = vs; s.h = 1; s.sum = 0 end\n"
        "ts[#ts + 1] = NOW; vs[#vs + 1] = x; s.sum = s.sum + x\n"
        f"local h, edge = s.h, NOW - {e.p('seconds')}\n"
        "while ts[h] <= edge do s.sum = s.sum - vs[h]; ts[h] = false; vs[h] = false; h = h + 1 end\n"
        "if h > 32 and h > #ts / 2 then\n"
        "  local nts, nvs, sum = {}, {}, 0\n"
        "  for i = h, #ts do nts[#nts + 1] = ts[i]; nvs[#nvs + 1] = vs[i]; sum = sum + vs[i] end\n"
        "  s.ts = nts; s.vs = nvs; s.sum = sum; h = 1; ts = nts\n"
        "end\n"
        f"s.h = h\n{out} = s.sum / (#ts - h + 1)"
    )


def _timing_ports(p: Mapping[str, Any]) -> tuple[dict[str, Port], dict[str, str]]:
    kind = "bool" if p["mode"] in ("delay_on", "delay_off") else "number"
    return {"in": Port(kind)}, {"out": kind}


TIMING = BlockType(
    "Timing",
    "delay_on / delay_off by `seconds` of clock time; average: moving mean over `seconds`; rate: change per second",
    {"mode": Param("choice", choices=TIMING_MODES), "seconds": Param("number", 0.0, minimum=0.0)},
    _timing_ports,
    _timing,
    check=lambda p: [f"mode {p['mode']!r} needs seconds > 0"] if p["mode"] == "average" and p["seconds"] <= 0 else [],
)

MATH_BLOCKS = (MATH, SCALE, RAMP_LIMIT, LOGIC, COMPARE, SELECT, LATCH, ONE_SHOT, TIMING)
