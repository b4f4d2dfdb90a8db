"""Control blocks: a PID loop and a staging sequence.

PID (positional form, integral gain per second)::

    e = pv - sp (direct action: more output when pv is above sp, as cooling)
        sp - pv (reverse action: heating)
    out = kp * e + I + kd * de/dt,   I += ki * e * dt   every sample_time seconds

* Anti-windup: while the output is at a limit the integral does not grow
  further into it, so the output
  leaves saturation on the first sample after the error changes sign.
* Bumpless transfer: while disabled the output follows ``track`` (when
  wired; else it holds its last value, initially out_min); on enable the
  integral starts at ``output - kp * e``, so the first output enabled is the
  output before.

Sequence: ``demand`` (0-100 %) asks for ceil(demand * stages / 100) stages;
one stage changes per run, last on first off, a stage turns on only when it
has been off ``min_off`` seconds and off only when on ``min_on`` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bms.logic._library import BlockType, Emit, Param, Port


def _pid(e: Emit) -> str:
    p = e.p
    err = "pv - sp" if e.params["action"] == "direct" else "sp - pv"
    track = e.inputs["track"] if "track" in e.wired else "nil"
    lo, hi = p("out_min"), p("out_max")
    return f"""local pv, sp = {e.inputs["pv"]}, {e.inputs["sp"]}
local en = {e.inputs["enable"]}
local e = {err}
local function lim(v) if v < {lo} then return {lo} elseif v > {hi} then return {hi} end return v end
if not en then
  s.on = false
  local tr = {track}
  if tr ~= nil then s.y = lim(tr) elseif s.y == nil then s.y = {lo} end
elseif not s.on then
  s.on = true
  local y0 = s.y
  if y0 == nil then local tr = {track}; y0 = tr ~= nil and lim(tr) or {lo} end
  s.i = y0 - {p("kp")} * e
  s.e = e; s.t = NOW; s.y = y0
elseif NOW - s.t >= {p("sample_time")} then
  local dt = NOW - s.t
  local pd = {p("kp")} * e + {p("kd")} * (e - s.e) / dt
  local i = s.i + {p("ki")} * e * dt
  local y = pd + i
  if y > {hi} then y = {hi}; if i > s.i then i = math.max(s.i, {hi} - pd) end
  elseif y < {lo} then y = {lo}; if i < s.i then i = math.min(s.i, {lo} - pd) end end
  s.i = i
  s.e = e; s.t = NOW; s.y = y
end
{e.outputs["out"]} = s.y"""


PID = BlockType(
    "PID",
    "PID loop with sample time, anti-windup and bumpless transfer on enable",
    {
        "kp": Param("number"),
        "ki": Param("number", 0.0, minimum=0.0),
        "kd": Param("number", 0.0, minimum=0.0),
        "sample_time": Param("number", 1.0, positive=True),
        "out_min": Param("number", 0.0),
        "out_max": Param("number", 100.0),
        "action": Param("choice", "direct", choices=("direct", "reverse")),
    },
    lambda _p: (
        {"pv": Port("number"), "sp": Port("number"), "enable": Port("bool", True), "track": Port("number", None)},
        {"out": "number"},
    ),
    _pid,
    check=lambda p: [] if p["out_min"] < p["out_max"] else [f"out_min {p['out_min']} must be below out_max {p['out_max']}"],
)

MAX_STAGES = 16


def _sequence_ports(p: Mapping[str, Any]) -> tuple[dict[str, Port], dict[str, str]]:
    n = p["stages"] if isinstance(p["stages"], int) and 1 <= p["stages"] <= MAX_STAGES else 1
    outputs = {f"out{i}": "bool" for i in range(1, n + 1)}
    outputs["count"] = "number"
    return {"demand": Port("number")}, outputs


def _sequence(e: Emit) -> str:
    n = e.params["stages"]
    outs = "\n".join(f"{e.outputs[f'out{i}']} = s.n >= {i}" for i in range(1, n + 1))
    return f"""local d = {e.inputs["demand"]}
if s.n == nil then
  s.n = 0; s.on_at = {{}}; s.off_at = {{}}
  for i = 1, {n} do s.on_at[i] = false; s.off_at[i] = false end
end
local want = math.ceil(d * {n} / 100 - 1e-9)
if want < 0 then want = 0 elseif want > {n} then want = {n} end
if want > s.n then
  local k = s.n + 1
  local off = s.off_at[k]
  if off == false or NOW - off >= {e.p("min_off")} then s.n = k; s.on_at[k] = NOW end
elseif want < s.n then
  local k = s.n
  local on = s.on_at[k]
  if on == false or NOW - on >= {e.p("min_on")} then s.n = k - 1; s.off_at[k] = NOW end
end
{outs}
{e.outputs["count"]} = s.n"""


SEQUENCE = BlockType(
    "Sequence",
    "stages N outputs from a 0-100 % demand, one change per run, with minimum on and off times",
    {
        "stages": Param("int", minimum=1, maximum=MAX_STAGES),
        "min_on": Param("number", 0.0, minimum=0.0),
        "min_off": Param("number", 0.0, minimum=0.0),
    },
    _sequence_ports,
    _sequence,
)

CONTROL_BLOCKS = (PID, SEQUENCE)
