"""Engine control of the logic component: stop and start execution, reload, status and the live event feed.

The same site as test_logic_engine (a virtual room, real SQLite files, a manual clock, no sleeps).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from actors import Context, make_context
from actors.components.logic._engine import CloseLogicFeed, OpenLogicFeed
from bms.alarms._feed import AlarmFeed
from bms.audit import ListAudit
from bms.clock import ManualClock
from bms.logic.messages import (
    EngineStatus,
    GetEngineStatus,
    GetProgram,
    ListPrograms,
    LogicEvent,
    ReloadLogic,
    StartLogic,
    StopLogic,
)
from bms.messages import Message
from bms.supervision import Health
from tests.actors.test_logic_engine import COUNTER, DOUBLE, T0, programs, start, value
from tests.conftest import wait_until


def test_stop_holds_every_program_until_start_and_both_are_audited(ctx: Context, tmp_path: Path) -> None:
    logic = start(ctx, programs(tmp_path, double=DOUBLE))
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    status: EngineStatus = logic.ask(GetEngineStatus())
    assert (status.scheduler, status.bundle, status.health) == ("running", "", "Healthy")
    assert [p.name for p in status.programs] == ["double"]
    stopped: EngineStatus = logic.ask(StopLogic(user="olivia"))
    assert (stopped.scheduler, stopped.stopped_by) == ("stopped", "olivia")
    health = ctx.health.get("logic")
    assert health is not None and health.state == Health.DEGRADED and "stopped by olivia" in health.reason
    clock.advance(30.0)
    assert logic.ask(GetProgram(name="double")).runs == 0  # the ticks came and nothing ran
    assert value(ctx, "room/out") is None
    started: EngineStatus = logic.ask(StartLogic(user="olivia"))
    assert started.scheduler == "running" and started.health == "Healthy"
    clock.advance(10.0)
    wait_until(lambda: value(ctx, "room/out") == 40.0, what="the program runs again")
    audit = ctx.registry.get("audit")
    wait_until(lambda: len(audit.ask(ListAudit(user="olivia"))) == 2, what="two audit rows")
    assert [(r.entry.action, r.entry.target) for r in audit.ask(ListAudit(user="olivia"))] == [
        ("stopLogic", "logic engine"), ("startLogic", "logic engine")]


def test_a_stop_is_kept_across_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    directory = programs(tmp_path, counter=COUNTER)
    first = make_context(clock, tmp_path)
    try:
        start(first, directory).ask(StopLogic(user="olivia"))
    finally:
        first.supervisor.stop_all(timeout=5)
    second = make_context(clock, tmp_path)
    try:
        logic = start(second, directory)
        assert logic.ask(GetEngineStatus()).stopped_by == "olivia"
        clock.advance(10.0)
        assert logic.ask(GetProgram(name="counter")).runs == 0
        logic.ask(StartLogic(user="olivia"))
        clock.advance(5.0)
        wait_until(lambda: value(second, "room/count") == 1, what="counting after the start")
    finally:
        second.supervisor.stop_all(timeout=5)


def test_reload_reads_the_program_directory_again(ctx: Context, tmp_path: Path) -> None:
    directory = programs(tmp_path, double=DOUBLE)
    logic = start(ctx, directory)
    (directory / "counter.toml").write_text(COUNTER, encoding="utf-8")
    (directory / "bad.toml").write_text(DOUBLE.replace("room/out", "room/nope"), encoding="utf-8")
    status: EngineStatus = logic.ask(ReloadLogic(user="olivia"))
    assert [p.name for p in status.programs] == ["counter", "double"]
    assert status.health == "Degraded" and "bad" in status.reason  # left out, named, as at start
    (directory / "bad.toml").unlink()
    (directory / "double.toml").unlink()
    status = logic.ask(ReloadLogic(user="olivia"))
    assert [p.name for p in status.programs] == ["counter"] and status.health == "Healthy"
    audit = ctx.registry.get("audit")
    wait_until(lambda: len(audit.ask(ListAudit(user="olivia"))) == 2, what="two reload audit rows")


def test_the_event_feed_carries_runs_writes_errors_and_engine_control(ctx: Context, tmp_path: Path) -> None:
    broken = COUNTER.replace("state_set(\"n\", n)", "state_set(\"n\", n) if n == 2 then error('two') end")
    logic = start(ctx, programs(tmp_path, counter=broken))
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    loop = asyncio.new_event_loop()
    try:
        feed = AlarmFeed(loop)
        logic.ask(OpenLogicFeed(feed))
        for runs in (1, 2):
            clock.advance(5.0)
            wait_until(lambda r=runs: logic.ask(GetProgram(name="counter")).runs == r, what=f"run {runs}")  # type: ignore[misc]
        logic.ask(StopLogic(user="olivia"))
        events: list[Message] = []

        async def drain() -> None:
            while len(events) < 4:
                batch = await feed.next(5.0)
                assert batch, "the feed went quiet"
                events.extend(batch)

        loop.run_until_complete(drain())
        assert all(isinstance(e, LogicEvent) for e in events)
        seen = [(e.kind, e.program, e.point, e.value, e.error) for e in events if isinstance(e, LogicEvent)]
        assert seen == [("run", "counter", "", None, ""), ("write", "counter", "room/count", 1, ""),
                        ("error", "counter", "", None, seen[2][4]), ("engine", "", "", None, "")]
        assert "two" in seen[2][4]
        logic.ask(CloseLogicFeed(feed))
        logic.ask(StartLogic(user="olivia"))
        assert logic.ask(ListPrograms())  # the engine lives; the closed feed gets nothing more
    finally:
        loop.close()
