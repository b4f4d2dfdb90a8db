"""The sandbox: escapes tried, budgets and memory, isolation, state, the fault counter."""

from __future__ import annotations

import pytest

from bms.clock import ManualClock
from bms.logic import FaultCounter, Program, Sandbox, compile_program


def lua(code: str, *, writes: tuple[str, ...] = ("x/out",), reads: tuple[str, ...] = ("x/in",), **kw: object) -> Sandbox:
    program = Program(name="hand", interval=1.0, lua=code, writes=writes, reads=reads)
    return Sandbox(compile_program(program), ManualClock(100.0), **kw)  # type: ignore[arg-type]


def test_hand_written_lua_has_the_program_api() -> None:
    box = lua(
        """
        local n = (state_get("n") or 0) + 1
        state_set("n", n)
        write("x/out", read("x/in") * 2, 9)
        log("run", n, "at", now())
        if schedule("occ") then alarm("a1", true, "high", "occupied") end
        """
    )
    result = box.run({"x/in": 4.0}, {"occ": True})
    assert result.ok, result.error
    assert [(w.point, w.value, w.priority) for w in result.writes] == [("x/out", 8.0, 9)]
    assert [lg.text for lg in result.logs] == ["run 1 at 100.0"]
    assert result.alarms[0].alarm == "a1" and result.alarms[0].active
    assert result.state["user"] == {"n": 1}
    assert box.run({"x/in": 1.0}).state["user"] == {"n": 2}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("os.execute('touch /tmp/pwned')", "global 'os'"),
        ("io.open('/etc/passwd')", "global 'io'"),
        ("require('os')", "global 'require'"),
        ("dofile('/etc/passwd')", "global 'dofile'"),
        ("debug.sethook()", "global 'debug'"),
        ("package.loadlib('x', 'y')", "global 'package'"),
        ("collectgarbage()", "global 'collectgarbage'"),
        ("string.dump(function() end)", "field 'dump'"),
        ("('x').dump(function() end)", "field 'dump'"),
        ("python.eval('1')", "global 'python'"),
        ("getmetatable('').__index = {}", "index a string value"),
        ("local f, err = load('\\27Lua\\84\\0') error(err)", "binary chunk"),
        ("load(function() return nil end)", "load takes a string"),
        ("load(('x=1 '):rep(100000))", "load: 400000 bytes of source, at most 262144"),
        ("local t = {} for i = 1, 100001 do t[i] = -i end table.sort(t)", "table.sort: 100001 items"),
        ("write('other/point', 1)", "not among the program's writes"),
        ("write('x/out', 0/0)", "finite number"),
        ("write('x/out', 1, 17)", "priority must be an integer 1-16"),
        ("setmetatable({}, {__gc = function() while true do end end})", "a __gc finalizer is not allowed"),
    ],
)
def test_escapes_fail_as_errors(code: str, message: str) -> None:
    result = lua(code).run({})
    assert not result.ok and result.fault == "error"
    assert message in (result.error or "")


def test_load_of_text_runs_inside_the_sandbox_only() -> None:
    result = lua("local f = load('return os') ; write('x/out', f() == nil and 1 or 0)").run({})
    assert result.ok and result.writes[0].value == 1


def test_an_infinite_loop_is_stopped_by_the_budget_and_the_runtime_lives_on() -> None:
    box = lua("if read('x/in') == 1 then while true do end end write('x/out', 5)")
    result = box.run({"x/in": 1})
    assert result.fault == "budget" and "instruction budget exceeded" in (result.error or "")
    assert result.writes == ()
    again = box.run({"x/in": 0})
    assert again.ok and again.writes[0].value == 5  # the hook was cleared after the failed run


@pytest.mark.parametrize(
    "code",
    [
        "while true do pcall(function() while true do end end) end",
        "while true do xpcall(function() while true do end end, function(e) return e end) end",
        "for i = 1, 1e9 do pcall(error, 'x') end",
    ],
)
def test_pcall_cannot_swallow_the_budget(code: str) -> None:
    result = lua(code).run({})
    assert result.fault == "budget"


def test_a_memory_bomb_is_stopped_even_inside_pcall_and_the_runtime_lives_on() -> None:
    box = lua(
        "if read('x/in') == 1 then pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end end) end\n"
        "write('x/out', 1)",
        max_memory=4 * 1024 * 1024,
    )
    result = box.run({"x/in": 1})
    assert result.fault == "memory" and result.writes == ()
    assert box.run({"x/in": 0}).ok


def test_deep_recursion_fails_cleanly() -> None:
    box = lua("local function f(n) return f(n + 1) + 1 end if read('x/in') == 1 then f(1) end write('x/out', 2)")
    result = box.run({"x/in": 1})
    assert not result.ok and result.fault in ("error", "memory", "budget")
    assert box.run({"x/in": 0}).ok


def test_programs_share_no_state_not_even_the_string_metatable() -> None:
    evil = lua(
        "string.upper = function() return 'pwned' end\n"
        "pcall(function() getmetatable('').__index.upper = function() return 'pwned' end end)\n"
        "pcall(setmetatable, '', {})\n"
        "shared = 'from evil'"
    )
    assert evil.run({}).ok
    victim = lua("write('x/out', (('abc'):upper() == 'ABC' and shared == nil) and 1 or 0)")
    assert victim.run({}).writes[0].value == 1
    # and within the evil program itself the method of strings is untouched
    assert lua("string.upper = nil; write('x/out', ('a'):upper() == 'A' and 1 or 0)").run({}).writes[0].value == 1


def test_no_python_object_can_enter() -> None:
    box = lua("write('x/out', 1)")
    from bms.errors import LogicError

    with pytest.raises(LogicError, match="input x/in is a object"):
        box.run({"x/in": object()})  # type: ignore[dict-item]


def test_a_failed_run_keeps_the_state_of_before() -> None:
    box = lua("state_set('n', (state_get('n') or 0) + 1) if read('x/in') == 1 then error('boom') end")
    assert box.run({"x/in": 0}).state["user"] == {"n": 1}
    failed = box.run({"x/in": 1})
    assert failed.fault == "error" and "boom" in (failed.error or "") and failed.state["user"] == {"n": 1}
    assert box.run({"x/in": 0}).state["user"] == {"n": 2}


def test_state_survives_a_restart() -> None:
    code = "state_set('n', (state_get('n') or 0) + 1) write('x/out', state_get('n'))"
    first = lua(code)
    first.run({})
    saved = first.run({}).state
    reborn = lua(code, state=saved)
    assert reborn.run({}).writes[0].value == 3


def test_fault_counter_disables_after_n_budget_faults_in_a_row() -> None:
    box = lua("if read('x/in') == 1 then while true do end end")
    counter = FaultCounter(limit=3)
    assert not counter.record(box.run({"x/in": 1}))
    assert not counter.record(box.run({"x/in": 1}))
    assert not counter.record(box.run({"x/in": 0}))  # a good run resets
    assert [counter.record(box.run({"x/in": 1})) for _ in range(3)] == [False, False, True]
    assert (
        counter.disabled
        and "instruction budget exceeded" in (counter.reason or "")
        and "3 runs in a row" in (counter.reason or "")
    )
    counter.reset()
    assert not counter.disabled


def test_the_budget_counts_each_run_afresh_and_holds_a_loop_inside_pcall_after_many_good_runs() -> None:
    box = lua("local n = 0 for i = 1, read('x/in') do n = n + i end write('x/out', n)", budget=100_000)
    for _ in range(200):  # a hook installed once: 200 runs of ~4,000 instructions never add up to the budget
        assert box.run({"x/in": 1000}).ok
    spent = box.run({"x/in": 10_000_000})
    assert spent.fault == "budget"
    again = box.run({"x/in": 10})
    assert again.ok and again.writes[0].value == 55
    spin = lua("pcall(function() while true do end end) while true do end", budget=50_000)
    assert spin.run({}).fault == "budget" and spin.run({}).fault == "budget"


def test_a_failed_run_of_a_custom_script_leaves_block_and_user_state_as_before() -> None:
    from bms.logic import Block, Wire

    blocks = (
        Block("t", "PointRead", {"point": "x/in"}),
        Block("r", "RampLimit", {"rate_up": 1.0, "rate_down": 1.0}),
        Block("cs", "CustomScript", {"code": "if x > 50 then error('too high') end y = x",
                                     "inputs": {"x": "number"}, "outputs": {"y": "number"}}),
        Block("w", "PointWrite", {"point": "x/out"}),
    )
    wires = (Wire("t.out", "r.in"), Wire("r.out", "cs.x"), Wire("cs.y", "w.in"))
    clock = ManualClock(0.0)
    box = Sandbox(compile_program(Program(name="p", interval=1.0, blocks=blocks, wires=wires)), clock)
    assert box.run({"x/in": 10.0}).ok
    before = box.state
    clock.advance(100.0)
    failed = box.run({"x/in": 100.0})  # the ramp moves to 100 (> 50), then the script fails
    assert failed.fault == "error" and failed.trace.outputs["r.out"] == 100.0
    assert box.state == before  # the ramp's memory is the one of before the failed run
    assert before["blocks"]["r"] == {"t": 0.0, "y": 10.0}


def test_traces_are_built_on_demand_for_the_last_kept_runs() -> None:
    from bms.logic import Block, Wire

    blocks = (Block("t", "PointRead", {"point": "x/in"}), Block("w", "PointWrite", {"point": "x/out"}))
    box = Sandbox(compile_program(Program(name="p", interval=1.0, blocks=blocks, wires=(Wire("t.out", "w.in"),))),
                  ManualClock(0.0), keep=3)
    results = [box.run({"x/in": float(i)}) for i in range(5)]
    assert [r.trace.outputs.get("t.out") for r in results] == [None, None, 2.0, 3.0, 4.0]  # the last 3 kept
    assert [r.trace.inputs for r in results[-2:]] == [{"x/in": 3.0}, {"x/in": 4.0}]


def test_inputs_beyond_the_declared_reads_still_reach_read() -> None:
    box = lua("write('x/out', (read('x/in') or 0) + (read('x/other') or 0))")
    assert box.run({"x/in": 1.0}).writes[0].value == 1.0  # the fast way: the declared reads as arguments
    assert box.run({"x/in": 1.0, "x/other": 2.0}).writes[0].value == 3.0  # a table of all of them
    assert box.run({"x/in": 5.0}).writes[0].value == 5.0


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 9, 20])
def test_any_number_of_reads_arrives_with_gaps_as_nil(n: int) -> None:
    reads = tuple(f"p/{i}" for i in range(n))
    code = (f"local s, missing = 0, 0\nfor i = 0, {n - 1} do local v = read('p/' .. i)\n"
            "if v then s = s + v else missing = missing + 1 end end\nwrite('x/out', s * 100 + missing)")
    box = lua(code, reads=reads)
    values = {p: float(i) for i, p in enumerate(reads) if i != 0}  # p/0 missing
    assert box.run(values).writes[0].value == sum(range(n)) * 100 + 1
    assert box.run({p: 1.0 for p in reads}).writes[0].value == n * 100


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("extra", ["", "log('hello', 1)", "alarm('hot', true, 'high', 'too hot') log_at('warn', 'x')"])
def test_every_write_comes_back_in_order_beside_alarms_and_log_lines(n: int, extra: str) -> None:
    writes = tuple(f"w/{i}" for i in range(n))
    code = "".join(f"write('w/{i}', {i} * 1.5, {i + 1}) " for i in range(n)) + extra
    result = lua(code, writes=writes or ("x/out",)).run({})
    assert result.ok and result.error is None and result.fault is None
    assert [(w.point, w.value, w.priority) for w in result.writes] == [(f"w/{i}", i * 1.5, i + 1) for i in range(n)]
    assert [(a.alarm, a.active, a.severity, a.message) for a in result.alarms] == (
        [("hot", True, "high", "too hot")] if "alarm" in extra else [])
    assert [(line.level, line.text) for line in result.logs] == (
        [("info", "hello 1")] if "hello" in extra else [("warn", "x")] if "alarm" in extra else [])


def test_run_reads_is_run_with_the_values_in_the_order_of_the_reads() -> None:
    code = "write('x/out', (read('a/1') or 0) * 10 + (read('a/2') or 0), read('a/3') and 3 or nil)"
    by_name, by_place = (lua(code, reads=("a/1", "a/2", "a/3")) for _ in range(2))
    for values in ((1.0, 2.0, None), (None, 5.0, True), (4, None, None)):
        named = by_name.run({p: v for p, v in zip(("a/1", "a/2", "a/3"), values, strict=True) if v is not None})
        placed = by_place.run_reads(values)
        assert placed.writes == named.writes and placed.trace.inputs == named.trace.inputs
        assert placed.trace.inputs == {p: v for p, v in zip(("a/1", "a/2", "a/3"), values, strict=True)
                                       if v is not None}


def test_a_priority_that_is_not_an_integer_1_16_fails_the_run_and_a_whole_float_is_taken() -> None:
    assert lua("write('x/out', 1, 3.0)").run({}).writes[0].priority == 3
    assert type(lua("write('x/out', 1, 3.0)").run({}).writes[0].priority) is int
    for bad in ("0", "17", "2.5", "'8'"):
        result = lua(f"write('x/out', 1, {bad})").run({})
        assert result.fault == "error" and "priority must be an integer 1-16" in (result.error or "")
    for bad, why in (("'x/nope', 1", "not among the program's writes"), ("42, 1", "the point must be a string"),
                     ("'x/out', 0/0", "finite number"), ("'x/out', {}", "finite number")):
        result = lua(f"write({bad})").run({})
        assert result.fault == "error" and why in (result.error or ""), result.error


@pytest.mark.parametrize("code", [
    'log("a\\255b")', 'error("bad \\255")', 'alarm("hot\\255", true, "high\\200", "x\\192")',
    'state_set("k", "\\255") state_set("\\254", {"\\253"})', 'log(string.rep("é", 600))',
    'local f, e = load("return \\"\\255") error(e)',
])
def test_bytes_that_are_not_utf8_leave_the_sandbox_as_text_and_never_break_the_engine(code: str) -> None:
    box = lua(code)
    result = box.run({})
    texts = [result.error or "", *(line.text for line in result.logs), *(line.level for line in result.logs),
             *(a.alarm + a.severity + a.message for a in result.alarms)]
    assert all(isinstance(t, str) for t in texts)
    assert "\ufffd" in "".join(texts) + box.state_text() or "é" in "".join(texts)
    assert box.state["user"] is not None and isinstance(box.state_text(), str)


def test_the_state_is_kept_as_json_the_way_python_would_read_the_tables() -> None:
    box = lua("""
        state_set("list", {1, 2.5, "x", true})
        state_set("gaps", {[1] = "a", [3] = "c"})
        state_set("map", {a = 1, [2.5] = "f", nested = {deeper = {0.1}}})
        state_set("whole", 3.0)
        state_set("big", 2^62)
        state_set("weird", {0/0, 1/0, -1/0})
        state_set("empty", {})
        state_set("quote", 'a"b\\\\c\\n\\t\\1')
        state_set("fn", {f = print})
    """)
    assert box.run({}).ok
    user = box.state["user"]
    assert user["list"] == [1, 2.5, "x", True]
    assert user["gaps"] == {"1": "a", "3": "c"}
    assert user["map"] == {"a": 1, "2.5": "f", "nested": {"deeper": [0.1]}}
    assert user["whole"] == 3.0 and type(user["whole"]) is float
    assert user["big"] == 2**62 and type(user["big"]) is float
    assert user["weird"] == [None, None, None]
    assert user["empty"] == {} and user["quote"] == 'a"b\\c\n\t\x01' and user["fn"] == {"f": None}
    reborn = lua("write('x/out', state_get('list')[2] + state_get('whole') + #state_get('quote'))", state=box.state)
    assert reborn.run({}).writes[0].value == 2.5 + 3.0 + 8


def test_a_block_output_that_is_not_utf8_is_text_in_the_trace() -> None:
    from bms.logic import Block

    blocks = (Block("cs", "CustomScript", {"code": 'y = "ok\\255"', "inputs": {}, "outputs": {"y": "any"}}),)
    box = Sandbox(compile_program(Program(name="p", interval=1.0, blocks=blocks)), ManualClock(0.0))
    result = box.run({})
    assert result.ok and result.trace.outputs == {"cs.y": "ok\ufffd"}


def test_no_finalizer_runs_outside_the_budget() -> None:
    """Lua runs a __gc with hooks off, at whatever later collection: one that loops would stop the engine.
    A __gc added to a metatable after it is set marks nothing; a __close loop is held by the budget."""
    late = lua("local mt = {} local t = setmetatable({}, mt) mt.__gc = function() while true do end end "
               "t = nil local junk = {} for i = 1, 2000 do junk[i] = {i} end", budget=1_000_000)
    for _ in range(20):  # collections come and go: nothing to finalize
        assert late.run({}).ok
    closing = lua("do local x <close> = setmetatable({}, {__close = function() while true do end end}) end",
                  budget=50_000)
    assert closing.run({}).fault == "budget" and closing.run({}).fault == "budget"


@pytest.mark.parametrize(("code", "what"), [
    ('local s = ("a"):rep(3000) local r = s:find(".-.-.-x")', "string.find: a pattern with 3 repetition(s) on 3000"),
    ('local r = string.match(("a"):rep(3000), ".-x")', "string.match: a pattern with 1 repetition(s)"),
    ('for w in ("ab"):rep(2000):gmatch("a.-.-x") do end', "string.gmatch"),
    ('local r = ("a"):rep(500):gsub("(a*)*b", "")', "string.gsub"),
])
def test_a_pattern_that_could_run_unbounded_in_c_is_refused_before_it_starts(code: str, what: str) -> None:
    """The matcher is C, where the count hook never fires: `.-.-.-x` on 3,000 bytes ran for minutes."""
    result = lua(code).run({})
    assert result.fault == "error" and what in (result.error or "") and "instruction budget" in (result.error or "")


def test_everyday_patterns_still_work() -> None:
    code = """
        local n = 0
        for k, v in ("a=1, b=22"):gmatch("(%w+)=(%w+)") do n = n + #k + #v end
        local trimmed = ("  supply air  "):match("^%s*(.-)%s*$")
        local _, dots = ("ahu1/sat.sp"):gsub("[./]", "_")
        local at = ("x.y"):find(".", 1, true)
        local sorted = {3, 1, 2} table.sort(sorted) assert(sorted[1] == 1 and sorted[3] == 3)
        local big = {} for i = 1, 200 do big[i] = -i end table.sort(big, function(a, b) return a < b end)
        local long = select(2, ("a"):rep(100000):gsub("a", "b"))
        write('x/out', n * 1000000 + #trimmed * 10000 + dots * 1000 + at * 100 + long // 100000)
    """
    result = lua(code).run({})
    assert result.ok, result.error
    assert result.writes[0].value == 5 * 1000000 + 10 * 10000 + 2 * 1000 + 2 * 100 + 1


def test_a_runs_last_word_per_point_and_priority_is_what_it_writes_and_alarms_are_bounded() -> None:
    """A loop of writes hands the engine one write per (point, priority), the last; an alarm named twice is
    its last request; more than 100 alarms in one run fail the run (no flood reaches the alarm engine)."""
    box = lua("for i = 1, 1000 do write('x/out', i) write('x/out', -i, 8) end write('x/b', true) "
              "write('x/out', nil, 8) alarm('hot', true, 'high', 'one') alarm('cold', true) alarm('hot', false)",
              writes=("x/out", "x/b"))
    result = box.run({})
    assert result.ok, result.error
    assert [(w.point, w.value, w.priority) for w in result.writes] == [
        ("x/out", 1000, 10), ("x/out", None, 8), ("x/b", True, 10)]
    assert [(a.alarm, a.active, a.message) for a in result.alarms] == [("hot", False, ""), ("cold", True, "")]
    again = box.run({})  # a new run starts afresh
    assert [w.value for w in again.writes] == [1000, None, True]
    flood = lua("for i = 1, 101 do alarm('a' .. i, true) end").run({})
    assert flood.fault == "error" and "alarm: more than 100 alarms in one run" in (flood.error or "")
