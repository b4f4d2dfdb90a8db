"""The FDD engine wired to the model, point and alarm stores on a manual clock: a virtual air handler whose
values the test writes, the library's windows shortened (10 s samples, a 30 s window). Real fdd.db."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pykka
import pytest

from actors import ChildSpec, Context
from actors.components.alarms import AlarmEngine
from actors.components.fdd import FddEngine
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.alarms import AckAlarms, GetAlarm
from bms.clock import ManualClock
from bms.config import LoadedScenario, PointSpec, Profile, Scenario, SiteSpec, VirtualBinding, VirtualDevice
from bms.errors import NotFound
from bms.fdd import FaultStore
from bms.fdd._settings import FddSection
from bms.fdd.messages import AckFault, ListFaults, ListFddBindings, ListFddRules
from bms.messages import FddFaultCleared, FddFaultRaised, WritePoint
from bms.supervision import Health
from tests.conftest import wait_until

POINTS = {  # key: (tags, a healthy OS4 value: cooling at minimum outdoor air, 30 °C outside)
    "oat": ("outside air temp sensor", 30.0), "rat": ("return air temp sensor", 24.0),
    "mat": ("mixed air temp sensor", 25.2), "sat": ("discharge air temp sensor", 20.3),
    "sat_sp": ("discharge air temp sp", 13.0), "fan": ("discharge fan speed cmd", 60.0),
    "dmp": ("outside damper cmd", 20.0), "clg": ("cool valve cmd", 50.0), "htg": ("heat valve cmd", 0.0),
}
AHU = Profile(name="ahu", protocol="virtual", equip="ahu", points=[
    PointSpec(key=key, name=key, writable=True, tags=tags.split(), virtual=VirtualBinding(initial=initial))
    for key, (tags, initial) in POINTS.items()])
FAST = "[g36]\nsample = 10.0\nsmoothing = 10.0\nmode_delay = 0.0\nwindow = 30.0\n[rules.FC3]\nseverity = 'high'\n"


def site() -> LoadedScenario:
    scenario = Scenario(site=SiteSpec(id="s", name="Site"), devices=[VirtualDevice(id="ahu", profile="ahu")])
    return LoadedScenario(Path("site.toml"), scenario, {"ahu": AHU})


def start(ctx: Context, tmp_path: Path, text: str = FAST) -> Any:
    rules = tmp_path / "fdd"
    rules.mkdir(exist_ok=True)
    (rules / "g36.toml").write_text(text, encoding="utf-8")
    loaded = site()
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 ChildSpec("alarms", AlarmEngine, kwargs={"scenario": loaded.scenario}),
                 ChildSpec("fdd", FddEngine, kwargs={"settings": FddSection(), "directory": rules})):
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    return ctx.registry.get("fdd")


def tick(ctx: Context, fdd: Any, n: int) -> None:
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    for _ in range(n):
        clock.advance(10.0)
        fdd.ask(ListFddRules())


def advance_until(ctx: Context, predicate: Any, what: str) -> None:
    """Advance the clock a sample at a time until ``predicate`` holds (ticks arrive from the ticker's thread)."""
    clock = ctx.clock
    assert isinstance(clock, ManualClock)

    def step() -> bool:
        if predicate():
            return True
        clock.advance(10.0)
        return False

    wait_until(step, timeout=10.0, what=what)


def test_a_persisting_fault_is_raised_routed_to_alarms_acknowledged_and_cleared(ctx: Context, tmp_path: Path) -> None:
    fdd = start(ctx, tmp_path)
    tick(ctx, fdd, 6)
    assert fdd.ask(ListFaults()) == []
    [binding] = fdd.ask(ListFddBindings())
    assert binding.equip == "ahu" and binding.roles["mat"] == "ahu/mat" and "FC3" in binding.runnable
    assert "dsp" in binding.missing and any(b.rule == "FC1" for b in binding.blocked)
    points = ctx.registry.get("points")
    points.ask(WritePoint(point_id="ahu/mat", value=36.0, priority=8, user="olivia"))  # a drifted sensor
    advance_until(ctx, lambda: any(f.rule == "FC3" for f in fdd.ask(ListFaults(active=True))), "FC3 raised")
    [fault] = [f for f in fdd.ask(ListFaults(active=True)) if f.rule == "FC3"]
    assert (fault.equip, fault.rule, fault.severity, fault.active) == ("ahu", "FC3", "high", True)
    assert "mat 36.0°C" in fault.explanation and "OS4" in fault.state and "MAT sensor error" in fault.causes
    alarms = ctx.registry.get("alarms")
    wait_until(lambda: _state(alarms, "fdd:ahu:FC3") == "unacknowledged", what="the fault raised as an alarm")
    assert alarms.ask(GetAlarm(alarm_id="fdd:ahu:FC3")).severity == "high"
    health = ctx.health.get("fdd")
    assert health is not None and health.state == Health.HEALTHY and "2 active fault" in health.reason  # FC3, FC6
    acked = fdd.ask(AckFault(fault_id=fault.id, user="olivia"))
    assert acked.acked_by == "olivia" and acked.acked_at is not None
    assert _state(alarms, "fdd:ahu:FC3") == "acknowledged"  # its alarm too: no more escalation
    alarms.ask(AckAlarms(alarm_ids=("fdd:ahu:FC6",), user="alice"))  # acknowledged in the alarm engine
    wait_until(lambda: any(f.rule == "FC6" and f.acked_by == "alice" for f in fdd.ask(ListFaults())),
               what="the fault acknowledged through its alarm")
    points.ask(WritePoint(point_id="ahu/mat", value=25.2, priority=8, user="olivia"))
    advance_until(ctx, lambda: fdd.ask(ListFaults(active=True)) == [], "FC3 cleared")
    [cleared] = [f for f in fdd.ask(ListFaults()) if f.rule == "FC3"]
    assert cleared.cleared_at is not None and cleared.acked_by == "olivia"
    wait_until(lambda: _state(alarms, "fdd:ahu:FC3") != "unacknowledged", what="the alarm returned to normal")
    assert fdd.ask(ListFaults(under="s")) and fdd.ask(ListFaults(under="ahu"))
    with pytest.raises(NotFound):
        fdd.ask(ListFaults(under="nowhere"))
    with pytest.raises(NotFound, match="no fault 99"):
        fdd.ask(AckFault(fault_id=99, user="olivia"))


def _state(alarms: Any, alarm_id: str) -> str:
    try:
        return str(alarms.ask(GetAlarm(alarm_id=alarm_id)).state)
    except NotFound:
        return "none"


def test_a_raised_fault_survives_a_restart_until_its_rule_clears(ctx: Context, tmp_path: Path) -> None:
    store = FaultStore(ctx.data_dir / "fdd.db")
    store.raise_fault(equip="ahu", rule="FC3", title="t", severity="high", at=1.0, explanation="x", causes=(),
                      state="OS4")
    store.close()
    fdd = start(ctx, tmp_path)
    advance_until(ctx, lambda: fdd.ask(ListFaults(active=True)) == [], "cleared by its rule")
    [fault] = fdd.ask(ListFaults())
    assert not fault.active and fault.cleared_at is not None


def test_a_bad_library_keeps_the_engine_down_naming_file_and_key(ctx: Context, tmp_path: Path) -> None:
    rules = tmp_path / "fdd"
    rules.mkdir()
    (rules / "g36.toml").write_text("[g36]\nwindw = 3\n", encoding="utf-8")
    loaded = site()
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore)):
        ctx.supervisor.start_child(spec)
    ctx.supervisor.start_child(ChildSpec("fdd", FddEngine, kwargs={"settings": FddSection(), "directory": rules}))
    health = ctx.health.get("fdd")
    assert health is not None and health.state == Health.DOWN
    assert "g36.windw: unknown key (did you mean 'window'?)" in health.reason


def test_raised_and_cleared_are_published(ctx: Context, tmp_path: Path) -> None:
    seen: list[Any] = []

    class Listener(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> None:
            seen.append(message)

    listener = Listener.start()
    try:
        ctx.registry.subscribe(FddFaultRaised, listener)
        ctx.registry.subscribe(FddFaultCleared, listener)
        fdd = start(ctx, tmp_path)
        ctx.registry.get("points").ask(WritePoint(point_id="ahu/mat", value=36.0, priority=8, user="olivia"))
        advance_until(ctx, lambda: any(isinstance(m, FddFaultRaised) and m.rule_id == "FC3" for m in seen),
                      "FddFaultRaised")
        raised = next(m for m in seen if isinstance(m, FddFaultRaised) and m.rule_id == "FC3")
        assert raised.equip_id == "ahu" and "mat 36.0" in raised.text
        ctx.registry.get("points").ask(WritePoint(point_id="ahu/mat", value=25.2, priority=8, user="olivia"))
        advance_until(ctx, lambda: any(isinstance(m, FddFaultCleared) and m.rule_id == "FC3" for m in seen),
                      "FddFaultCleared")
        assert fdd.ask(ListFaults(active=True)) == []
    finally:
        listener.stop()
