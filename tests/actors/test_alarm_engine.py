"""The alarm engine wired to the model and point stores: profile alarms, delays on the clock, alarms.db, restarts.

A scenario built in code: ``ahu1``, a Modbus device whose samples the test
publishes as a bridge would, with a high-limit alarm on its supply-air
temperature (suppressed while its fan is off) in its profile. Real SQLite
files, a manual clock, no sleeps.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from actors import ChildSpec, Context, make_context
from actors.components.alarms import AlarmEngine
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.alarms import (
    AckAlarms,
    AlarmDefinition,
    AlarmHistory,
    AlarmRaised,
    AlarmRefused,
    AlarmSpec,
    DefineAlarm,
    GetAlarm,
    HighLimit,
    ListAlarms,
    RemoveAlarm,
    ShelveAlarm,
    StaleValue,
    Suppression,
)
from bms.clock import ManualClock
from bms.config import LoadedScenario, ModbusBinding, ModbusDevice, PointSpec, Profile, Scenario, SiteSpec
from bms.errors import ConfigError, NotFound
from bms.messages import GetPoint, Sample, SampleBatch
from tests.actors.test_site_stores import collect
from tests.conftest import wait_until

T0 = 1_700_000_000.0
SAT_HIGH = AlarmSpec(condition=HighLimit(limit=28.0, deadband=1.0), severity="high", on_delay=60.0,
                     suppress=Suppression(point="fan_status", when=False, settle=120.0))
AHU = Profile(name="ahu", protocol="modbus", points=[
    PointSpec(key="sat", name="Supply air temperature", unit="°C", alarms=[SAT_HIGH],
              modbus=ModbusBinding(table="holding", address=1)),
    PointSpec(key="fan_status", name="Fan status", kind="bool", modbus=ModbusBinding(table="coil", address=1)),
    PointSpec(key="oat", name="Outdoor air", unit="°C", modbus=ModbusBinding(table="holding", address=2)),
])


def site() -> LoadedScenario:
    scenario = Scenario(site=SiteSpec(id="s", name="Site"),
                        devices=[ModbusDevice(id="ahu1", profile="ahu", host="127.0.0.1")],
                        alarms=[AlarmDefinition(id="oat-stale", point="ahu1/oat", condition=StaleValue(period=600.0))])
    return LoadedScenario(Path("site.toml"), scenario, {"ahu": AHU})


def start(ctx: Context) -> Any:
    loaded = site()
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 ChildSpec("alarms", AlarmEngine, kwargs={"scenario": loaded.scenario})):
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    return ctx.registry.get("alarms")


def sample(ctx: Context, **values: Any) -> None:
    """Publish the values as a bridge would; return once the alarm engine has seen them."""
    ts = ctx.clock.now()
    ctx.registry.publish(SampleBatch(source="modbus.test",
                                     samples=tuple(Sample(f"ahu1/{k}", v, ts) for k, v in values.items())))
    points = ctx.registry.get("points")
    for key, value in values.items():
        wait_until(lambda k=key, v=value: points.ask(GetPoint(point_id=f"ahu1/{k}")).value == v,  # type: ignore[misc]
                   what=f"ahu1/{key} = {value}")
    ctx.registry.get("alarms").ask(ListAlarms())  # behind the ValueChanged in its mailbox


def test_a_profile_alarm_raises_after_its_on_delay_on_the_clock_and_is_kept_in_alarms_db(ctx: Context,
                                                                                           tmp_path: Path) -> None:
    raised = collect(ctx, AlarmRaised)
    alarms = start(ctx)
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    sample(ctx, fan_status=False, sat=31.0, oat=12.0)  # the fan is off: no alarm however warm
    wait_until(lambda: alarms.ask(GetAlarm(alarm_id="ahu1/sat:high")).state == "suppressed", what="suppressed")
    sample(ctx, fan_status=True)
    clock.advance(119.0)
    sample(ctx, sat=31.5)
    clock.advance(1.0)  # the fan has run for its settling time
    wait_until(lambda: alarms.ask(GetAlarm(alarm_id="ahu1/sat:high")).state == "normal", what="settled")
    clock.advance(60.0)  # no further sample: the on-delay runs on the clock
    wait_until(lambda: raised, what="AlarmRaised")
    (event,) = raised
    assert isinstance(event, AlarmRaised)
    assert (event.alarm_id, event.severity, event.value) == ("ahu1/sat:high", "high", 31.5)
    assert event.text == "Supply air temperature above 28°C: 31.5°C"
    views = alarms.ask(ListAlarms(active=True))
    assert [v.alarm_id for v in views] == ["ahu1/sat:high"]
    [acked] = alarms.ask(AckAlarms(alarm_ids=("ahu1/sat:high",), user="olivia"))
    assert (acked.state, acked.acked_by) == ("acknowledged", "olivia")
    with sqlite3.connect(ctx.data_dir / "alarms.db") as db:  # written before it was answered
        rows = db.execute("SELECT event, user FROM alarm_events ORDER BY id").fetchall()
    assert rows == [("suppressed", ""), ("unsuppressed", ""), ("raised", ""), ("acknowledged", "olivia")]
    history = alarms.ask(AlarmHistory(since=T0, alarm_id="ahu1/sat:high"))
    assert [(e.event, e.state) for e in history][-2:] == [("raised", "unacknowledged"),
                                                          ("acknowledged", "acknowledged")]


def test_operators_mistakes_are_one_clear_line(ctx: Context) -> None:
    alarms = start(ctx)
    with pytest.raises(AlarmRefused, match="normal: nothing to acknowledge"):
        alarms.ask(AckAlarms(alarm_ids=("ahu1/sat:high",), user="o"))
    with pytest.raises(NotFound, match="no alarm 'nope'"):
        alarms.ask(GetAlarm(alarm_id="nope"))
    with pytest.raises(ConfigError, match="unknown point 'ahu1/nope'"):
        alarms.ask(DefineAlarm(definition=AlarmDefinition(id="x", point="ahu1/nope", condition=HighLimit(limit=1))))
    with pytest.raises(ConfigError, match=r"unknown field \{nmae\}"):
        alarms.ask(DefineAlarm(definition=AlarmDefinition(id="x", point="ahu1/oat", condition=HighLimit(limit=1),
                                                          message="{nmae}")))
    with pytest.raises(ConfigError, match="comes from the configuration"):
        alarms.ask(RemoveAlarm(alarm_id="oat-stale"))
    with pytest.raises(ConfigError, match="unknown severity 'urgent'"):
        alarms.ask(ListAlarms(severity="urgent"))


def test_active_alarms_shelves_and_runtime_definitions_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    first = make_context(clock, tmp_path)
    try:
        alarms = start(first)
        alarms.ask(DefineAlarm(definition=AlarmDefinition(id="oat-high", point="ahu1/oat",
                                                          condition=HighLimit(limit=30.0)), user="olivia"))
        sample(first, fan_status=True, sat=20.0, oat=35.0)
        wait_until(lambda: alarms.ask(GetAlarm(alarm_id="oat-high")).state == "unacknowledged", what="raised")
        shelved = alarms.ask(ShelveAlarm(alarm_id="oat-high", until=T0 + 3600.0, reason="sensor in the sun", user="o"))
        assert shelved.state == "shelved"
    finally:
        first.supervisor.stop_all()
    clock.advance(60.0)
    second = make_context(clock, tmp_path)
    try:
        alarms = start(second)
        view = alarms.ask(GetAlarm(alarm_id="oat-high"))  # defined at run time: back from alarms.db
        assert (view.state, view.shelve_reason, view.shelved_until) == ("shelved", "sensor in the sun", T0 + 3600.0)
        clock.advance(3600.0)
        wait_until(lambda: alarms.ask(GetAlarm(alarm_id="oat-high")).state == "unacknowledged",
                   what="the shelve ended by itself after the restart, the alarm still active")
        assert alarms.ask(RemoveAlarm(alarm_id="oat-high", user="o")) is True
    finally:
        second.supervisor.stop_all()
