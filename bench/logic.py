"""Runs per second of a 10-block compiled program: through bms.logic's Sandbox vs the same Lua called directly.

    python bench/logic.py [--seconds 2]

The sandbox side is called as the logic engine calls it (``Sandbox.run_reads`` with the values of the
program's reads gathered from a dict, a RunResult with its Write objects made per run); the direct side
gets its inputs as a Lua table made from the same dict. Both in the same process and run, alternating,
in runs per second of the thread's CPU time (the box is shared: waiting for a core is nobody's cost);
the ratio is sandbox / direct (goal >= 50%).
Then the engine-level figures (``bench/_logic_engine.py``): runs/s through the logic engine actor
(one run per change batch of the program's input, published to the actor; a write through the point
store when an output's value changes), and the CPU share of one core that 1,000 such programs at 1 Hz
take in the engine.
The direct call is the compiled chunk in a bare lupa.lua54 runtime with the program API as plain
Lua functions: no budget hook, no result objects, no trace or state copied out.
"""

from __future__ import annotations

import argparse
import time

import lupa.lua54 as lupa

from bms.clock import ManualClock, WallClock
from bms.logic import Sandbox, compile_program, program_from_text

PROGRAM = """
interval = 1
[[blocks]]
id = "oat"
type = "PointRead"
point = "ahu1/oat"
[[blocks]]
id = "zone"
type = "PointRead"
point = "vav101/zone_temp"
[[blocks]]
id = "sp"
type = "Constant"
value = 22.0
[[blocks]]
id = "reset"
type = "Scale"
in_low = 10.0
in_high = 25.0
out_low = 16.0
out_high = 12.0
[[blocks]]
id = "ramp"
type = "RampLimit"
rate_up = 0.05
rate_down = 0.05
[[blocks]]
id = "pid"
type = "PID"
kp = 10.0
ki = 0.1
sample_time = 1.0
[[blocks]]
id = "warm"
type = "Compare"
op = "gt"
setpoint = 24.0
hysteresis = 0.5
[[blocks]]
id = "hold"
type = "Timing"
mode = "delay_on"
seconds = 60.0
[[blocks]]
id = "w1"
type = "PointWrite"
point = "ahu1/sat_sp"
[[blocks]]
id = "w2"
type = "PointWrite"
point = "vav101/damper"
[[wires]]
from = "oat"
to = "reset.in"
[[wires]]
from = "reset"
to = "ramp.in"
[[wires]]
from = "ramp"
to = "w1.in"
[[wires]]
from = "zone"
to = "pid.pv"
[[wires]]
from = "sp"
to = "pid.sp"
[[wires]]
from = "pid"
to = "w2.in"
[[wires]]
from = "zone"
to = "warm.a"
[[wires]]
from = "warm"
to = "hold.in"
"""

DIRECT_API = """
local IN, W = {}, {}
local env = {math = math, read = function(p) return IN[p] end,
  write = function(p, v, prio) W[#W + 1] = v end, tonum = function(v) return v end,
  tobool = function(v) return v and true or false end}
return env, function(inputs) IN = inputs; W = {} end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--no-engine", dest="engine", action="store_false",
                        help="only the sandbox and direct figures (not the engine actor's)")
    args = parser.parse_args()
    compiled = compile_program(program_from_text(PROGRAM, source="bench"))
    clock = ManualClock(0.0)  # for the budget demonstration below
    # both sides read the real clock, as the daemon's engine does (a ManualClock's lock would be the bench's
    # cost, not the sandbox's)
    box = Sandbox(compiled, WallClock())
    runtime = lupa.LuaRuntime(register_eval=False, register_builtins=False)
    env, begin = runtime.execute(DIRECT_API)
    chunk = runtime.eval("function(src, env) return load(src, 'bench', 't', env) end")(compiled.lua, env)
    blocks_state, outputs = runtime.table(), runtime.table()
    inputs = {"ahu1/oat": 18.0, "vav101/zone_temp": 23.0}

    reads, get = compiled.reads, inputs.get

    def sandboxed() -> None:  # as the engine runs a program: its reads' values gathered from its table of values
        box.run_reads(tuple(map(get, reads)))

    def direct() -> None:
        begin(runtime.table_from(inputs))
        chunk(blocks_state, outputs, time.time())

    # the floor of any budgeted sandbox: the same direct call with a count hook installed (Lua 5.4 then runs
    # every instruction through its hook check), measured beside the others
    hooked_rt = lupa.LuaRuntime(register_eval=False, register_builtins=False)
    h_env, h_begin = hooked_rt.execute(DIRECT_API)
    h_chunk = hooked_rt.eval("function(src, env) return load(src, 'bench', 't', env) end")(compiled.lua, h_env)
    hooked_rt.execute("debug.sethook(function() end, '', 10000)")
    h_state, h_outputs = hooked_rt.table(), hooked_rt.table()

    def hooked() -> None:
        h_begin(hooked_rt.table_from(inputs))
        h_chunk(h_state, h_outputs, time.time())

    # the budget stops `while true do end`: measured once, printed, never asserted
    spin = Sandbox(compile_program(program_from_text('interval = 1\nlua = "while true do end"', source="spin")), clock)
    result = spin.run({})
    print(f"while true do end stopped by the budget after {result.trace.duration * 1000:.1f} ms ({result.error})")
    rates: dict[str, list[float]] = {"sandbox": [], "direct": [], "hooked": []}
    for _ in range(4):  # alternate short phases: the machine is shared
        for name, fn in (("sandbox", sandboxed), ("direct", direct), ("hooked", hooked)):
            # CPU time of this thread: the box is shared, and time spent waiting for a core is no one's cost
            n, t0 = 0, time.thread_time()
            deadline = time.perf_counter() + args.seconds / 12
            while time.perf_counter() < deadline:
                for _ in range(100):
                    fn()
                n += 100
            rates[name].append(n / max(time.thread_time() - t0, 1e-6))
    sandbox_rate, direct_rate = max(rates["sandbox"]), max(rates["direct"])
    print(f"10-block program, {len(compiled.slots)} output slots, 2 inputs, 2 writes per run")
    print(f"  through the sandbox runner: {sandbox_rate:>10,.0f} runs/s  ({1e6 / sandbox_rate:.1f} us/run)")
    print(f"  direct lupa call:           {direct_rate:>10,.0f} runs/s  ({1e6 / direct_rate:.1f} us/run)")
    hooked_rate = max(rates["hooked"])
    print(f"  direct, count hook on:      {hooked_rate:>10,.0f} runs/s  ({1e6 / hooked_rate:.1f} us/run: the floor "
          "of any instruction budget)")
    print(f"  ratio: {sandbox_rate / direct_rate:.0%} of direct (goal >= 50%), "
          f"{sandbox_rate / hooked_rate:.0%} of direct with the hook on")
    print(f"  1,000 such programs at 1 Hz: ~{1000 / sandbox_rate:.1%} of one core in the runner alone")
    if args.engine:
        from _logic_engine import cpu_share_of, engine_runs_per_second

        engine_rate = engine_runs_per_second(PROGRAM, args.seconds)
        print(f"  through the engine actor:   {engine_rate:>10,.0f} runs/s  (wall time: on-change batches published "
              f"to the actor, a write through the point store when a value changes; {engine_rate / direct_rate:.0%} "
              "of direct)")
        share = cpu_share_of(PROGRAM, 1000, max(args.seconds * 2, 5.0))
        print(f"  1,000 such programs at 1 Hz in the engine: {share:.1%} of one core (goal < 25%; outputs steady, "
              "so no writes)")
        # the PID's setpoint far from the zone: its output climbs every run, so each run writes (point store,
        # audit when present, logic.db)
        changing = PROGRAM.replace('id = "sp"\ntype = "Constant"\nvalue = 22.0', 'id = "sp"\ntype = "Constant"\nvalue = 10.0')
        share = cpu_share_of(changing, 1000, max(args.seconds * 2, 5.0))
        print(f"  the same with an output that changes every run (a write per run): {share:.1%} of one core")


if __name__ == "__main__":
    main()
