"""The BACnet bridge against real simulated devices on loopback (ports of this module only)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from actors import Context
from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from actors.components.bacnet import BacnetBridge, bacnet_bridges
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from actors.components.sim_bacnet import BacnetSimulatorActor, BacnetSimulatorThread, bacnet_simulator, simulated_devices
from actors.platform import Platform
from bms.clock import ManualClock
from bms.config import (
    BacnetBinding,
    BacnetDevice,
    BacnetNetwork,
    DeviceSpec,
    LoadedScenario,
    PointSpec,
    Profile,
    Scenario,
    Settings,
    SiteSpec,
)
from bms.config._schema import Networks
from bms.messages import (
    DeviceAnswering,
    DeviceDown,
    DeviceMonitorCycle,
    DevicePriority,
    DeviceRecovered,
    DeviceWrite,
    GetPoint,
    Message,
    ObjectListChanged,
    ReadDevicePriority,
    Sample,
    SampleBatch,
    WriteResult,
)
from bms.sim.bacnet import BacnetSimulator, SimDevice
from bms.supervision import Health
from tests.bms.bacnet.loopback import free_port, host, profile
from tests.conftest import wait_until

AHU, VAV = profile("ahu"), profile("vav")
ODD = Profile(name="odd", protocol="bacnet", points=[
    PointSpec(key="ghost", name="Ghost sensor", bacnet=BacnetBinding(object="analog-input,99")),
    PointSpec(key="sat_forced", name="SAT written", writable=True, bacnet=BacnetBinding(object="analog-input,2")),
    PointSpec(key="ghost_cmd", name="Ghost command", writable=True, bacnet=BacnetBinding(object="analog-output,99")),
])
PROFILES = {"ahu": AHU, "vav": VAV, "odd": ODD}
AHU_ID, VAV1_ID, VAV2_ID, SPARE_ID = 3001, 3101, 3102, 3201


class Collector(BmsActor):
    """Keeps every message of the given types (test side reads ``got``)."""

    def __init__(self, name: str, ctx: Context, got: list[Any], types: tuple[type, ...]) -> None:
        super().__init__(name, ctx)
        self.got = got
        self.types = types

    def setup(self) -> None:
        for t in self.types:
            self.ctx.registry.subscribe(t, self.actor_ref)

    @handles(Message)
    def keep(self, msg: Any) -> None:
        self.got.append(msg)


@pytest.fixture(scope="module")
def sim() -> Iterator[BacnetSimulatorThread]:
    devices = [SimDevice(AHU_ID, host(20), AHU), SimDevice(VAV1_ID, host(21), VAV),
               SimDevice(VAV2_ID, host(22), VAV), SimDevice(SPARE_ID, host(23), VAV)]
    running = BacnetSimulatorThread(BacnetSimulator(devices, free_port(), interval=None))
    try:
        yield running
    finally:
        running.stop()


def scenario(sim: BacnetSimulatorThread, *devices: DeviceSpec, restart_check: float = 60.0) -> Scenario:
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=sim.simulator.device_port,
                            poll_interval=1.0, timeout=0.3, retries=0, restart_check=restart_check)
    return Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": network}), devices=list(devices))


def device(device_id: str, profile_name: str, instance: int, n: int) -> BacnetDevice:
    return BacnetDevice(id=device_id, profile=profile_name, network="lan",
                        address=host(n), device_instance=instance)


class Site:
    def __init__(self, ctx: Context, got: list[Any]) -> None:
        self.ctx, self.got = ctx, got

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.ctx.clock, ManualClock)
        return self.ctx.clock

    def advance_until(self, predicate: Callable[[], object], step: float, what: str) -> None:
        """Move the clock by ``step`` until ``predicate`` holds (a poll in flight skips a tick)."""
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            self.clock.advance(step)
            try:
                wait_until(predicate, timeout=0.5, what=what)
                return
            except AssertionError:
                continue
        raise AssertionError(f"timed out waiting for {what}")

    def samples(self, point_id: str) -> list[Sample]:
        return [s for m in list(self.got) if isinstance(m, SampleBatch) for s in m.all_samples() if s.point_id == point_id]

    def of(self, kind: type) -> list[Any]:
        return [m for m in list(self.got) if isinstance(m, kind)]

    def batches_of(self, device_id: str) -> list[SampleBatch]:
        return [m for m in self.of(SampleBatch) if m.all_samples() and m.all_samples()[0].point_id.startswith(f"{device_id}/")]


def start(ctx: Context, sc: Scenario, **options: Any) -> Site:
    got: list[Any] = []
    types = (SampleBatch, DeviceDown, DeviceRecovered, DeviceAnswering, WriteResult, DeviceMonitorCycle,
             ObjectListChanged)
    ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"got": got, "types": types}))
    ref = ctx.supervisor.start_child(ChildSpec("bacnet.lan", BacnetBridge, kwargs={
        "network_name": "lan", "scenario": sc, "profiles": PROFILES, **options}))
    assert ref is not None
    return Site(ctx, got)


def test_each_device_poll_is_one_batch_with_values_and_point_faults(ctx: Context, sim: BacnetSimulatorThread) -> None:
    site = start(ctx, scenario(sim, device("ahu1", "ahu", AHU_ID, 20), device("odd1", "odd", AHU_ID, 20),
                               device("vav1", "vav", VAV1_ID, 21)))
    wait_until(lambda: site.batches_of("ahu1") and site.batches_of("odd1") and site.batches_of("vav1"),
               what="a first poll of every device")
    (ahu,) = site.batches_of("ahu1")
    assert ahu.source == "bacnet.lan"
    assert len(ahu.all_samples()) == len(AHU.points) and all(s.fault is None for s in ahu.all_samples())
    values = {s.point_id: s.value for s in ahu.all_samples()}
    assert (values["ahu1/sat_sp"], values["ahu1/fan_cmd"], values["ahu1/fan_speed"]) == (13.0, True, 60.0)
    assert ahu.all_samples()[0].ts == site.clock.now()
    (odd,) = site.batches_of("odd1")
    faults = {s.point_id: s.fault for s in odd.all_samples()}
    assert faults == {"odd1/ghost": "unknown-object", "odd1/sat_forced": None, "odd1/ghost_cmd": "unknown-object"}
    site.clock.advance(1.0)  # the next poll
    wait_until(lambda: len(site.batches_of("vav1")) >= 2, what="a second poll")
    assert ctx.health.get("bacnet.lan").state == Health.HEALTHY.value  # type: ignore[union-attr]


def test_cov_update_arrives_without_a_poll(ctx: Context, sim: BacnetSimulatorThread) -> None:
    site = start(ctx, scenario(sim, device("ahu1", "ahu", AHU_ID, 20)))
    wait_until(lambda: site.batches_of("ahu1"), what="the first poll")
    sim.set_value(AHU_ID, "analog-input,1", 31.5)  # oat, bound with cov = true; the clock stands still
    wait_until(lambda: any(s.value == 31.5 for s in site.samples("ahu1/oat")), what="a COV notification of 31.5")
    sim.set_value(AHU_ID, "analog-input,1", 33.0)
    wait_until(lambda: any(s.value == 33.0 for s in site.samples("ahu1/oat")), what="a COV notification of 33.0")
    assert len(site.batches_of("ahu1")) >= 2 and not site.samples("ahu1/oat")[-1].fault
    sim.set_value(AHU_ID, "analog-input,5", 999.0)  # sa_flow is polled, not followed: nothing yet
    site.clock.advance(1.0)
    wait_until(lambda: any(s.value == 999.0 for s in site.samples("ahu1/sa_flow")), what="the polled flow")
    polled = site.batches_of("ahu1")[-1]
    assert "ahu1/oat" not in {s.point_id for s in polled.all_samples()}  # followed by COV, no longer polled


def test_device_status_flags_reach_the_point_apart_from_its_own(
    ctx: Context, sim: BacnetSimulatorThread, tmp_path: Any
) -> None:
    sc = scenario(sim, device("ahu1", "ahu", AHU_ID, 20))
    loaded = LoadedScenario(path=tmp_path / "site.toml", scenario=sc, profiles=PROFILES)
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore)):
        assert ctx.supervisor.start_child(spec) is not None
    sim.set_status(AHU_ID, "analog-input,5", in_alarm=True, out_of_service=True)  # sa_flow, polled
    try:
        site = start(ctx, sc)
        wait_until(lambda: site.samples("ahu1/sa_flow"), what="the first poll")
        (flow,) = site.samples("ahu1/sa_flow")
        assert (flow.fault, flow.device_flags) == (None, ("in-alarm", "out-of-service"))
        assert site.samples("ahu1/sat_sp")[0].device_flags == ()
        points = ctx.registry.get("points")
        wait_until(lambda: points.ask(GetPoint(point_id="ahu1/sa_flow")).device_flags, what="the flags in the store")
        state = points.ask(GetPoint(point_id="ahu1/sa_flow"))
        assert (state.flags, state.device_flags) == ((), ("in-alarm", "out-of-service"))  # not our alarm
    finally:
        sim.set_status(AHU_ID, "analog-input,5")
    site.clock.advance(1.0)
    wait_until(lambda: not points.ask(GetPoint(point_id="ahu1/sa_flow")).device_flags, what="the flags cleared")


def test_write_then_relinquish_restores_and_reads_back(ctx: Context, sim: BacnetSimulatorThread) -> None:
    site = start(ctx, scenario(sim, device("vav2", "vav", VAV2_ID, 22)))
    wait_until(lambda: site.batches_of("vav2"), what="the first poll")
    ctx.registry.publish(DeviceWrite(point_id="vav2/damper", value=80.0, priority=8, request_id="r1"))
    wait_until(lambda: site.of(WriteResult), what="the write result")
    assert site.of(WriteResult) == [WriteResult(point_id="vav2/damper", ok=True, request_id="r1", readback=80.0)]
    assert sim.run(lambda: sim.simulator.priority_array(VAV2_ID, "analog-output,1"))[7] == 80.0
    bridge = ctx.registry.get("bacnet.lan")
    held = bridge.ask(ReadDevicePriority(point_id="vav2/damper"))  # who holds the point, on the device itself
    assert held.levels is not None and held.levels[7] == 80.0 and held.levels.count(None) == 15
    assert bridge.ask(ReadDevicePriority(point_id="other/damper")) == DevicePriority(point_id="other/damper")
    ctx.registry.publish(DeviceWrite(point_id="vav2/damper", value=None, priority=8, request_id="r2"))
    wait_until(lambda: len(site.of(WriteResult)) == 2, what="the relinquish result")
    assert site.of(WriteResult)[1] == WriteResult(point_id="vav2/damper", ok=True, request_id="r2", readback=50.0)
    assert sim.value(VAV2_ID, "analog-output,1") == 50.0
    assert site.samples("vav2/damper")[-1].value == 50.0  # the read-back goes to the point store too
    ctx.registry.publish(DeviceWrite(point_id="vav2/zone_temp", value=1.0, priority=8, request_id="r3"))  # not writable
    ctx.registry.publish(DeviceWrite(point_id="other/damper", value=1.0, priority=8, request_id="r4"))  # not ours
    ctx.registry.publish(DeviceWrite(point_id="vav2/zone_sp", value=21.0, priority=8, request_id="r5"))
    wait_until(lambda: len(site.of(WriteResult)) == 3, what="the setpoint write")
    assert [r.request_id for r in site.of(WriteResult)] == ["r1", "r2", "r5"]


@pytest.mark.parametrize(("point_id", "value", "reason"), [
    ("odd1/sat_forced", 5.0, "write-access-denied"),
    ("odd1/ghost_cmd", 5.0, "unknown-object"),
    ("ahu1/sat_sp", 50.0, "value-out-of-range"),
    ("ahu1/fan_cmd", "sideways", "not a valid value"),
])
def test_refused_writes_are_results_with_the_bacnet_reason(
    ctx: Context, sim: BacnetSimulatorThread, point_id: str, value: Any, reason: str
) -> None:
    site = start(ctx, scenario(sim, device("ahu1", "ahu", AHU_ID, 20), device("odd1", "odd", AHU_ID, 20)))
    ctx.registry.publish(DeviceWrite(point_id=point_id, value=value, priority=8, request_id="r7"))
    wait_until(lambda: site.of(WriteResult), what="the write result")
    (result,) = site.of(WriteResult)
    assert (result.point_id, result.ok, result.request_id) == (point_id, False, "r7")
    assert reason in result.error and "\n" not in result.error


def test_offline_device_goes_down_others_keep_publishing_then_recovers_with_cov(
    ctx: Context, sim: BacnetSimulatorThread
) -> None:
    site = start(ctx, scenario(sim, device("ahu1", "ahu", AHU_ID, 20), device("spare", "vav", SPARE_ID, 23)),
                 down_after=2, max_backoff=4.0, monitor_interval=100.0)
    wait_until(lambda: site.batches_of("spare") and site.batches_of("ahu1"), what="the first polls")
    wait_until(lambda: len(site.samples("spare/zone_temp")) >= 2, what="the first COV notification")
    sim.set_offline(SPARE_ID)
    for failures in (1, 2):
        site.clock.advance(1.0)
        wait_until(lambda: len([b for b in site.batches_of("spare") if b.all_samples()[0].fault]) == failures,  # noqa: B023
                   what=f"failed poll {failures}")
    wait_until(lambda: site.of(DeviceDown), what="DeviceDown")
    (down,) = site.of(DeviceDown)
    assert (down.protocol, down.device_id) == ("bacnet", "spare") and "no answer" in down.reason
    assert "spare" in ctx.health.get("bacnet.lan").reason  # type: ignore[union-attr]
    ahu_before = len(site.batches_of("ahu1"))
    site.clock.advance(1.0)
    wait_until(lambda: len(site.batches_of("ahu1")) > ahu_before, what="the AHU still polled")
    site.clock.advance(100.0)
    wait_until(lambda: site.of(DeviceMonitorCycle), what="the monitor cycle")
    assert (site.of(DeviceMonitorCycle)[0].online, site.of(DeviceMonitorCycle)[0].offline) == (1, 1)
    sim.set_offline(SPARE_ID, False)
    site.advance_until(lambda: site.of(DeviceRecovered), 4.0, what="DeviceRecovered")  # past the backoff
    (back,) = site.of(DeviceRecovered)
    assert back.device_id == "spare" and back.down_for > 0
    wait_until(lambda: ctx.health.get("bacnet.lan").state == Health.HEALTHY.value, what="healthy again")  # type: ignore[union-attr]
    sim.set_value(SPARE_ID, "analog-input,1", 27.5)  # zone_temp is COV: resubscribed, no poll needed
    wait_until(lambda: any(s.value == 27.5 for s in site.samples("spare/zone_temp")), what="COV after recovery")


def test_a_device_that_never_answered_is_named_not_counted_as_answering(ctx: Context, sim: BacnetSimulatorThread) -> None:
    site = start(ctx, scenario(sim, device("vav1", "vav", VAV1_ID, 21), device("ghost", "vav", 3999, 40)), down_after=5)
    wait_until(lambda: site.batches_of("vav1") and site.batches_of("ghost"), what="the first polls")
    expected = "1 of 2 devices answering; 1 not answered yet: ghost"
    wait_until(lambda: ctx.health.get("bacnet.lan").reason == expected, what="the health")  # type: ignore[union-attr]
    assert ctx.health.get("bacnet.lan").state == Health.HEALTHY.value  # type: ignore[union-attr]


def test_a_write_the_device_takes_ends_its_down_state_at_once(ctx: Context, sim: BacnetSimulatorThread) -> None:
    site = start(ctx, scenario(sim, device("spare", "vav", SPARE_ID, 23)), down_after=1, max_backoff=3600.0)
    wait_until(lambda: site.batches_of("spare"), what="the first poll")
    sim.set_offline(SPARE_ID)
    site.clock.advance(1.0)
    wait_until(lambda: site.of(DeviceDown), what="DeviceDown")
    assert ctx.health.get("bacnet.lan").state == Health.DEGRADED.value  # type: ignore[union-attr]
    sim.set_offline(SPARE_ID, False)
    ctx.registry.publish(DeviceWrite(point_id="spare/damper", value=70.0, priority=8, request_id="r9"))
    wait_until(lambda: site.of(DeviceRecovered), what="DeviceRecovered, the clock still (no poll is due)")
    assert site.of(WriteResult) == [WriteResult(point_id="spare/damper", ok=True, request_id="r9", readback=70.0)]
    wait_until(lambda: ctx.health.get("bacnet.lan").state == Health.HEALTHY.value, what="healthy again")  # type: ignore[union-attr]


def test_a_device_that_may_have_forgotten_its_commands_is_announced(ctx: Context, sim: BacnetSimulatorThread) -> None:
    """Its first answer, a restart its device object shows, an answer after a failed poll: DeviceAnswering each."""
    site = start(ctx, scenario(sim, device("vav1", "vav", VAV1_ID, 21), restart_check=30.0), down_after=3)
    wait_until(lambda: site.of(DeviceAnswering), what="the first answer")
    first = site.of(DeviceAnswering)[0]
    assert (first.protocol, first.device_id, first.reason) == ("bacnet", "vav1", "first answer")
    # the first contact reads the device object, then subscribes: a COV notification says it is done
    wait_until(lambda: len(site.samples("vav1/zone_temp")) >= 2, what="the first poll and COV notification")
    sim.restart(VAV1_ID, reason="warmstart")  # a power cycle between two polls: no poll fails
    site.advance_until(lambda: len(site.of(DeviceAnswering)) == 2, 10.0, what="the restart seen in its device object")
    restarted = site.of(DeviceAnswering)[1]
    assert restarted.reason == "restarted" and restarted.detail.startswith("time-of-device-restart ")
    assert restarted.detail.endswith("(warmstart)")
    sim.set_value(VAV1_ID, "analog-input,1", 26.5)  # its COV subscriptions, lost in the restart, are renewed
    wait_until(lambda: any(s.value == 26.5 for s in site.samples("vav1/zone_temp")), what="COV after the restart")
    sim.set_offline(VAV1_ID)
    site.clock.advance(1.0)
    wait_until(lambda: any(b.all_samples()[0].fault for b in site.batches_of("vav1")), what="a failed poll")
    sim.set_offline(VAV1_ID, False)
    site.advance_until(lambda: len(site.of(DeviceAnswering)) == 3, 1.0, what="the answer after the gap")
    gap = site.of(DeviceAnswering)[2]
    assert (gap.reason, gap.detail) == ("after a gap", "1 failed poll before this answer")
    assert site.of(DeviceDown) == []  # one failure is no reason to call it down


def test_object_list_change_is_reported_on_recovery(ctx: Context, sim: BacnetSimulatorThread) -> None:
    site = start(ctx, scenario(sim, device("spare", "vav", SPARE_ID, 23)), down_after=1, max_backoff=2.0)
    wait_until(lambda: len(site.samples("spare/zone_temp")) >= 2, what="the first poll and COV notification")
    sim.set_offline(SPARE_ID)
    site.clock.advance(1.0)
    wait_until(lambda: site.of(DeviceDown), what="DeviceDown")
    bigger = Profile(name="vav2", protocol="bacnet", equip="vav",
                     points=[*VAV.points, PointSpec(key="co2", name="Zone CO2", bacnet=BacnetBinding(object="analog-input,9"))])
    other = BacnetSimulator([SimDevice(SPARE_ID, host(23), bigger)], sim.simulator.device_port, interval=None)
    replaced = BacnetSimulatorThread(other)  # the "same" device, re-flashed with one more object
    try:
        site.advance_until(lambda: site.of(ObjectListChanged), 2.0, what="ObjectListChanged")
        (change,) = site.of(ObjectListChanged)
        assert (change.device_id, change.added, change.removed) == ("spare", ("analog-input,9",), ())
    finally:
        replaced.stop()
        sim.set_offline(SPARE_ID, False)


def test_bad_network_is_down_with_one_line(ctx: Context, sim: BacnetSimulatorThread) -> None:
    bad = Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": BacnetNetwork(address="nowhere")}),
                   devices=[device("ahu1", "ahu", AHU_ID, 20)])
    ctx.supervisor.start_child(ChildSpec("bacnet.lan", BacnetBridge, kwargs={
        "network_name": "lan", "scenario": bad, "profiles": PROFILES}))
    status = ctx.health.get("bacnet.lan")
    assert status is not None and status.state == Health.DOWN.value
    assert "nowhere" in status.reason and "\n" not in status.reason


def test_misconfigured_device_is_left_out_and_named(ctx: Context, sim: BacnetSimulatorThread) -> None:
    no_address = BacnetDevice(id="lost", profile="vav", network="lan", device_instance=9)
    site = start(ctx, scenario(sim, device("vav1", "vav", VAV1_ID, 21), no_address,
                               device("nameless", "nope", 7, 30)))
    wait_until(lambda: site.batches_of("vav1"), what="the good device polled")
    status = ctx.health.get("bacnet.lan")
    assert status is not None and status.state == Health.DEGRADED.value
    assert "devices.lost.address" in status.reason and "1 more" in status.reason


def test_no_thread_leaks_after_stop(ctx: Context, sim: BacnetSimulatorThread) -> None:
    before = {t.name for t in threading.enumerate()}
    site = start(ctx, scenario(sim, device("vav1", "vav", VAV1_ID, 21)))
    wait_until(lambda: site.batches_of("vav1"), what="the first poll")
    assert "bacnet.lan-io" in {t.name for t in threading.enumerate()}
    ctx.supervisor.stop_all(timeout=5)
    assert "bacnet.lan-io" not in {t.name for t in threading.enumerate()} - before


def test_simulator_component_serves_the_scenario_and_the_bridge_polls_it(ctx: Context, tmp_path: Any) -> None:
    port = free_port()
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=port, timeout=0.3, retries=0)
    sc = Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": network}),
                  devices=[device("ahu9", "ahu", 3901, 60), device("vav9", "vav", 3902, 61)])
    ctx.supervisor.start_child(ChildSpec("sim-bacnet", BacnetSimulatorActor, kwargs={
        "scenario": sc, "profiles": PROFILES, "interval": None}))
    assert ctx.health.get("sim-bacnet").state == Health.HEALTHY.value  # type: ignore[union-attr]
    site = start(ctx, sc)
    wait_until(lambda: site.batches_of("ahu9") and site.batches_of("vav9"), what="the simulated devices polled")
    assert {s.value for s in site.batches_of("vav9")[0].all_samples() if s.point_id == "vav9/zone_sp"} == {22.0}


def test_simulator_bind_failure_is_down_with_one_line(ctx: Context) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((host(70), port))
        network = BacnetNetwork(device_port=port)
        sc = Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": network}),
                      devices=[device("ahu9", "ahu", 3903, 70)])
        ref = ctx.supervisor.start_child(ChildSpec("sim-bacnet", BacnetSimulatorActor, kwargs={
            "scenario": sc, "profiles": PROFILES}))
    assert ref is not None  # alive, but Down: the rest of the site runs
    status = ctx.health.get("sim-bacnet")
    assert status is not None and status.state == Health.DOWN.value
    assert f"on port {port}: {host(70)}:{port}/udp is in use by this process" in status.reason  # at once, named
    assert "\n" not in status.reason


def test_component_factories(tmp_path: Any, sim: BacnetSimulatorThread) -> None:
    sc = scenario(sim, device("ahu1", "ahu", AHU_ID, 20),
                  BacnetDevice(id="off", profile="vav", network="spare", enabled=False))
    site = LoadedScenario(path=tmp_path / "s.toml", scenario=sc, profiles=PROFILES)
    platform = Platform(settings=Settings(), site=site, data_dir=tmp_path, simulate=False)
    assert [s.name for s in bacnet_bridges(platform)] == ["bacnet.lan"]
    assert bacnet_simulator(platform) == []
    platform.simulate = True
    (spec,) = bacnet_simulator(platform)
    assert spec.name == "sim-bacnet"
    by_port, problems = simulated_devices(sc, PROFILES)
    assert [d.instance for d in by_port[sim.simulator.device_port]] == [AHU_ID] and problems == []
