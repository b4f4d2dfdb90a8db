"""Blocks at the program's edges: points, constants, schedules, alarms, logs and inline Lua."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bms.logic._library import REQUIRED, BlockType, Emit, Param, Port, Ports, fixed, lua_literal, lua_name, value_type

KIND = Param("choice", "number", choices=("number", "bool"))


def _coerce(kind: str, expr: str) -> str:
    return f"tobool({expr})" if kind == "bool" else f"tonum({expr})"


def _point_default(params: Mapping[str, Any]) -> Any:
    default = params.get("default")
    if default is None:
        return False if params["kind"] == "bool" else 0.0
    return default


def _kind_default(params: Mapping[str, Any]) -> list[str]:
    default = params.get("default")
    if default is not None and value_type(default) != params["kind"]:
        return [f"default {default!r} is not a {params['kind']} (kind = {params['kind']!r})"]
    return []


def _point_read(e: Emit) -> str:
    kind = e.params["kind"]
    return (
        f"local v = read({e.p('point')})\n"
        f"if v == nil then v = {lua_literal(_point_default(e.params))} else v = {_coerce(kind, 'v')} end\n"
        f"{e.outputs['out']} = v"
    )


POINT_READ = BlockType(
    "PointRead",
    "a point's present value (default when it has none)",
    {"point": Param("point"), "kind": KIND, "default": Param("value", None)},
    lambda p: ({}, {"out": p["kind"]}),
    _point_read,
    check=_kind_default,
    reads=lambda p: (p["point"],),
)


def _point_write(e: Emit) -> str:
    return (
        f"local v = {e.inputs['in']}\nif v ~= nil and {e.inputs['enable']} then write({e.p('point')}, v, {e.p('priority')}) end"
    )


POINT_WRITE = BlockType(
    "PointWrite",
    "commands a point at a priority while enabled",
    {"point": Param("point"), "kind": KIND, "priority": Param("int", None, minimum=1, maximum=16)},
    lambda p: ({"in": Port(p["kind"]), "enable": Port("bool", True)}, {}),
    _point_write,
    writes=lambda p: (p["point"],),
)


def _virtual_point(e: Emit) -> str:
    out = e.outputs["out"]
    if "in" in e.wired:
        return f"local v = {e.inputs['in']}\nif v ~= nil then write({e.p('point')}, v, {e.p('priority')}) end\n{out} = v"
    return _point_read(e)


VIRTUAL_POINT = BlockType(
    "VirtualPoint",
    "a virtual point: written from its input when wired, read otherwise",
    {
        "point": Param("point"),
        "kind": KIND,
        "default": Param("value", None),
        "priority": Param("int", None, minimum=1, maximum=16),
    },
    lambda p: ({"in": Port(p["kind"], None)}, {"out": p["kind"]}),
    _virtual_point,
    check=_kind_default,
    reads=lambda p: (p["point"],),
    writes=lambda p: (p["point"],),
)

CONSTANT = BlockType(
    "Constant",
    "a fixed value",
    {"value": Param("value")},
    lambda p: ({}, {"out": value_type(p["value"])}),
    lambda e: f"{e.outputs['out']} = {e.p('value')}",
)


def _schedule_read(e: Emit) -> str:
    name = e.p("schedule")
    return (
        f"local v, occ = schedule({name}), occupied({name})\n"
        'if v == "occupied" then v = true elseif v == "unoccupied" then v = false end\n'
        "if occ == nil then occ = v == true end\n"
        f"if v == nil then v = {lua_literal(_point_default(e.params))} else v = {_coerce(e.params['kind'], 'v')} end\n"
        f"{e.outputs['out']} = v\n"
        f"{e.outputs['occupied']} = occ"
    )


SCHEDULE_READ = BlockType(
    "ScheduleRead",
    "the present value of a schedule as the schedule engine evaluates it (occupied/unoccupied read as "
    "true/false), and whether it is occupied",
    {"schedule": Param("str"), "kind": KIND, "default": Param("value", None)},
    lambda p: ({}, {"out": p["kind"], "occupied": "bool"}),
    _schedule_read,
    check=_kind_default,
)

SEVERITIES = ("low", "medium", "high", "critical")


def _alarm_trigger(e: Emit) -> str:
    return (
        f"local v = {e.inputs['in']} and true or false\n"
        "if s.q ~= v then\n"
        f"  s.q = v\n  alarm({e.p('alarm')}, v, {e.p('severity')}, {e.p('message')})\n"
        "end"
    )


ALARM_TRIGGER = BlockType(
    "AlarmTrigger",
    "asks the alarm engine to raise (input true) or clear (false) an alarm, on each change",
    {"alarm": Param("str"), "severity": Param("choice", "medium", choices=SEVERITIES), "message": Param("str", "")},
    fixed({"in": Port("bool")}, {}),
    _alarm_trigger,
)


def _log(e: Emit) -> str:
    always = "true" if not e.params["on_change"] else "false"
    return f"local v = {e.inputs['in']}\nif {always} or s.v ~= v then s.v = v; log_at({e.p('level')}, {e.p('message')}, v) end"


LOG = BlockType(
    "Log",
    "a log line with its input's value (on change, or every run)",
    {
        "message": Param("str"),
        "level": Param("choice", "info", choices=("debug", "info", "warning", "error")),
        "on_change": Param("bool", True),
    },
    fixed({"in": Port("any")}, {}),
    _log,
)


def _ports_of(spec: Any) -> dict[str, str]:
    return {k: v for k, v in spec.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(spec, dict) else {}


def _custom_check(params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in ("inputs", "outputs"):
        spec = params[key]
        if not isinstance(spec, dict):
            problems.append(f"{key} must be a table of port name = type")
            continue
        for name, kind in spec.items():
            if not lua_name(name):
                problems.append(f"{key}.{name}: not a usable Lua name")
            if kind not in ("number", "bool", "any"):
                problems.append(f"{key}.{name}: type {kind!r} is not number, bool or any")
    clash = set(_ports_of(params["inputs"])) & set(_ports_of(params["outputs"]))
    if clash:
        problems.append(f"ports both input and output: {', '.join(sorted(clash))}")
    return problems


def _custom_ports(params: Mapping[str, Any]) -> Ports:
    return {k: Port(v) for k, v in _ports_of(params["inputs"]).items()}, _ports_of(params["outputs"])


def _custom_script(e: Emit) -> str:
    ins = list(_ports_of(e.params["inputs"]))
    outs = list(_ports_of(e.params["outputs"]))
    args = ", ".join([*ins, "state"])
    values = ", ".join([*(e.inputs[i] for i in ins), "s"])
    ret = ", ".join(outs) or "nil"
    local = f"local {', '.join(outs)}\n" if outs else ""
    targets = ", ".join(e.outputs[o] for o in outs)
    call = f"(function({args})\n{local}{e.params['code']}\nreturn {ret}\nend)({values})"
    return f"{targets} = {call}" if outs else call
    # (the code runs in the program's sandbox; `state` is its own persistent table)


CUSTOM_SCRIPT = BlockType(
    "CustomScript",
    "inline Lua: inputs as locals, assigns its outputs; `state` persists between runs",
    {"code": Param("code"), "inputs": Param("ports", REQUIRED), "outputs": Param("ports", REQUIRED)},
    _custom_ports,
    _custom_script,
    check=_custom_check,
)

IO_BLOCKS = (POINT_READ, POINT_WRITE, VIRTUAL_POINT, CONSTANT, SCHEDULE_READ, ALARM_TRIGGER, LOG, CUSTOM_SCRIPT)
