"""Alarms raised by a logic program's AlarmTrigger outlive a restart of the alarm engine alone.

The alarm engine keeps other engines' alarms (``ExternalAlarm``) in alarms.db like its own: when only it
restarts (a supervisor restart after a failure), the alarm is still there, still unacknowledged, and its
clear and acknowledgement go on as before. Real SQLite files, a manual clock, no sleeps.
"""

from __future__ import annotations

import threading
from pathlib import Path

from actors import ChildSpec, Context
from actors._base import BmsActor, handles
from actors._registry import LOSSLESS
from bms.alarms import AckAlarms, GetAlarm
from bms.errors import NotFound
from bms.logic.messages import GetProgram
from bms.messages import Message, ValueChanged, WritePoint
from tests.actors.test_logic_engine import FOLLOW, programs, start, value
from tests.conftest import wait_until


def restart_alarm_engine(ctx: Context, n: int) -> None:
    """Make the alarm engine fail on an event (not a refusal): the supervisor restarts it, alone."""
    restarted = threading.Event()

    class Watch(BmsActor):
        @handles(Message)
        def on(self, msg: Message) -> None:
            if type(msg).__name__ == "ActorRestarted" and getattr(msg, "component", "") == "alarms":
                restarted.set()

    watch = ctx.supervisor.start_child(ChildSpec(f"watch{n}", Watch))
    assert watch is not None
    ctx.registry.subscribe(Message, watch, LOSSLESS)
    ctx.registry.get("alarms").tell(ValueChanged(values=None))  # type: ignore[arg-type]
    assert restarted.wait(5), "the alarm engine was not restarted"


def test_a_logic_alarm_survives_a_restart_of_the_alarm_engine_alone(ctx: Context, tmp_path: Path) -> None:
    logic = start(ctx, programs(tmp_path, follow=FOLLOW))
    points = ctx.registry.get("points")
    points.ask(WritePoint(point_id="room/temp", value=31.0, priority=8, user="olivia"))

    def state() -> str:
        try:
            return str(ctx.registry.get("alarms").ask(GetAlarm(alarm_id="logic:follow:hot")).state)
        except NotFound:
            return "none"

    wait_until(lambda: state() == "unacknowledged", what="the program's alarm raised")
    restart_alarm_engine(ctx, 1)
    assert state() == "unacknowledged"  # still there after the restart: nobody re-raised it
    view = ctx.registry.get("alarms").ask(GetAlarm(alarm_id="logic:follow:hot"))
    assert (view.severity, view.point_id) == ("high", "room/copy")
    points.ask(WritePoint(point_id="room/temp", value=25.0, priority=8, user="olivia"))
    wait_until(lambda: value(ctx, "room/copy") == 25.0, what="the program ran again")
    wait_until(lambda: state() == "returned-unacknowledged", what="the program's clear reached the restarted engine")
    ctx.registry.get("alarms").ask(AckAlarms(alarm_ids=("logic:follow:hot",), user="olivia"))
    assert state() == "normal"
    assert logic.ask(GetProgram(name="follow")).runs == 2  # the logic engine re-asserted nothing
