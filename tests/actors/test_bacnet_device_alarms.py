"""Device alarms through the BACnet bridge: the simulated AHU's own high-limit alarm, read, received and acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from actors import Context
from actors._supervisor import ChildSpec
from actors.components.bacnet import BacnetBridge
from actors.components.sim_bacnet import BacnetSimulatorThread
from bms.config import BacnetBinding, BacnetNetwork, Scenario, SiteSpec
from bms.config._schema import Networks
from bms.messages import AcknowledgeDeviceAlarm, DeviceAccepted, DeviceAckResult, DeviceEvent, SampleBatch
from bms.model import Binding, Capabilities, Node
from bms.sim.bacnet import BacnetSimulator, SimDevice
from tests.actors.test_bacnet_bridge import Collector, device, profile
from tests.bms.bacnet.loopback import free_port, host
from tests.conftest import wait_until

AHU = profile("ahu")
AHU_ID = 3301
SAT = "analog-input,2"


@pytest.fixture
def sim() -> Iterator[BacnetSimulatorThread]:
    running = BacnetSimulatorThread(BacnetSimulator([SimDevice(AHU_ID, host(30), AHU)], free_port(), interval=None))
    try:
        yield running
    finally:
        running.stop()


def start(ctx: Context, sim: BacnetSimulatorThread, event_recipient: str = "confirmed") -> tuple[list[Any], str]:
    port = free_port()
    network = BacnetNetwork(address=f"127.0.0.1/8:{port}", device_port=sim.simulator.device_port, poll_interval=1.0,
                            timeout=0.5, retries=0, event_recipient=event_recipient)  # type: ignore[arg-type]
    sc = Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": network}),
                  devices=[device("ahu1", "ahu", AHU_ID, 30)])
    got: list[Any] = []
    ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={
        "got": got, "types": (SampleBatch, DeviceEvent, DeviceAckResult)}))
    ctx.supervisor.start_child(ChildSpec("bacnet.lan", BacnetBridge, kwargs={
        "network_name": "lan", "scenario": sc, "profiles": {"ahu": AHU}}))
    return got, f"127.0.0.1:{port}"


def of(got: list[Any], kind: type) -> list[Any]:
    return [m for m in list(got) if isinstance(m, kind)]


def notified(got: list[Any]) -> list[DeviceEvent]:
    """The events the device notified (its active events read at first contact may come too)."""
    return [m for m in of(got, DeviceEvent) if m.source == "confirmed"]


def test_the_bridge_joins_receives_the_high_limit_alarm_and_acknowledges_it_at_the_device(
    ctx: Context, sim: BacnetSimulatorThread
) -> None:
    got, ours = start(ctx, sim)
    wait_until(lambda: ours in sim.run(lambda: sim.simulator.recipients(AHU_ID)), what="our address in its list")
    sim.set_value(AHU_ID, SAT, 31.5)
    wait_until(lambda: notified(got), what="the high-limit event")
    (event,) = notified(got)
    assert (event.device_id, event.object_id, event.point_id) == ("ahu1", SAT, "ahu1/sat")
    assert (event.from_state, event.to_state, event.event_state, event.source) == (
        "normal", "high-limit", "high-limit", "confirmed")
    assert (event.priority, event.ack_required, event.ts) == (100, True, ctx.clock.now())
    assert event.message == "Supply air temperature 31.5 above its high limit 28" and event.device_ts is not None

    ctx.registry.publish(AcknowledgeDeviceAlarm(device_id="ahu1", object_id=SAT, to_state="high-limit",
                                                device_time="2001-01-01T00:00:00.00", user="ops", request_id="a1"))
    wait_until(lambda: of(got, DeviceAckResult), what="the refused acknowledgement")
    (refused,) = of(got, DeviceAckResult)
    assert (refused.ok, refused.request_id, refused.device_id, refused.object_id) == (False, "a1", "ahu1", SAT)
    assert "invalid-time-stamp" in refused.error
    assert sim.run(lambda: sim.simulator.acked_transitions(AHU_ID, SAT)) == (False, True, True)

    ctx.registry.publish(AcknowledgeDeviceAlarm(point_id="ahu1/sat", to_state=event.to_state,  # the point names it
                                                device_time=event.device_time, user="ops", request_id="a2"))
    wait_until(lambda: len(of(got, DeviceAckResult)) == 2, what="the acknowledgement")
    assert of(got, DeviceAckResult)[1] == DeviceAckResult(device_id="ahu1", object_id=SAT, point_id="ahu1/sat",
                                                         ok=True, request_id="a2")
    assert sim.run(lambda: sim.simulator.acked_transitions(AHU_ID, SAT)) == (True, True, True)

    ctx.registry.publish(AcknowledgeDeviceAlarm(device_id="other", object_id=SAT, to_state="normal",
                                                device_time=event.device_time, request_id="a3"))  # not this bridge's
    sim.set_value(AHU_ID, SAT, 20.0)
    wait_until(lambda: len(notified(got)) == 2, what="the return to normal")
    back = notified(got)[1]
    assert (back.from_state, back.to_state, back.priority) == ("high-limit", "normal", 200)
    assert [r.request_id for r in of(got, DeviceAckResult)] == ["a1", "a2"]


def test_active_events_are_read_at_first_contact(ctx: Context, sim: BacnetSimulatorThread) -> None:
    sim.set_value(AHU_ID, SAT, 35.0)  # in alarm before the bridge starts; nobody to tell
    wait_until(lambda: sim.run(lambda: sim.simulator.event_state(AHU_ID, SAT)) == "high-limit", what="the alarm")
    got, _ = start(ctx, sim)
    wait_until(lambda: of(got, DeviceEvent), what="the active event")
    (event,) = of(got, DeviceEvent)
    assert (event.source, event.point_id, event.from_state, event.to_state, event.event_state) == (
        "event-information", "ahu1/sat", "", "high-limit", "high-limit")
    assert (event.acked, event.ack_required, event.priority) == (False, True, 100)
    ctx.registry.publish(AcknowledgeDeviceAlarm(device_id="ahu1", object_id=SAT, to_state=event.to_state,
                                                device_time=event.device_time, request_id="a1"))
    wait_until(lambda: of(got, DeviceAckResult), what="the acknowledgement")
    assert of(got, DeviceAckResult)[0].ok
    assert sim.run(lambda: sim.simulator.acked_transitions(AHU_ID, SAT)) == (True, True, True)


def test_a_network_with_event_recipient_off_leaves_the_recipient_list_alone(
    ctx: Context, sim: BacnetSimulatorThread
) -> None:
    got, _ = start(ctx, sim, event_recipient="off")
    wait_until(lambda: of(got, SampleBatch), what="the first poll")
    sim.set_value(AHU_ID, SAT, 35.0)
    wait_until(lambda: sim.run(lambda: sim.simulator.event_state(AHU_ID, SAT)) == "high-limit", what="the alarm")
    assert sim.run(lambda: sim.simulator.recipients(AHU_ID)) == []
    assert not [e for e in of(got, DeviceEvent) if e.source != "event-information"]  # never notified


def test_a_bridge_that_is_down_refuses_the_acknowledgement(ctx: Context, sim: BacnetSimulatorThread) -> None:
    bad = BacnetNetwork(address="nowhere", device_port=sim.simulator.device_port)  # the network cannot open
    sc = Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": bad}),
                  devices=[device("ahu1", "ahu", AHU_ID, 30)])
    got: list[Any] = []
    ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"got": got, "types": (DeviceAckResult,)}))
    ctx.supervisor.start_child(ChildSpec("bacnet.lan", BacnetBridge, kwargs={
        "network_name": "lan", "scenario": sc, "profiles": {"ahu": AHU}}))
    ctx.registry.publish(AcknowledgeDeviceAlarm(device_id="ahu1", object_id=SAT, to_state="high-limit",
                                                device_time="#1", request_id="a1"))
    wait_until(lambda: of(got, DeviceAckResult), what="the refusal")
    (result,) = of(got, DeviceAckResult)
    assert (result.ok, result.request_id) == (False, "a1") and "cannot acknowledge" in result.error


def test_a_device_accepted_while_the_bridge_runs_gets_our_address_in_its_list(
    ctx: Context, sim: BacnetSimulatorThread
) -> None:
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=sim.simulator.device_port,
                            poll_interval=1.0, timeout=0.5, retries=0, event_recipient="unconfirmed")
    sc = Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": network}), devices=[])
    got: list[Any] = []
    ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"got": got, "types": (DeviceEvent,)}))
    ctx.supervisor.start_child(ChildSpec("bacnet.lan", BacnetBridge, kwargs={
        "network_name": "lan", "scenario": sc, "profiles": {"ahu": AHU}}))
    assert sim.run(lambda: sim.simulator.recipients(AHU_ID)) == []
    equip = Node(id="ahu9", type="Equip", name="AHU-9", parent="t",
                 properties={"protocol": "bacnet", "address": host(30), "device_instance": AHU_ID, "network": "lan"})
    sat = Node(id="ahu9/sat", type="Point", name="Supply air temperature", parent="ahu9",
               capabilities=Capabilities(readable=True),
               binding=Binding.of("bacnet", "ahu9", BacnetBinding(object=SAT, cov=True)))
    ctx.registry.publish(DeviceAccepted("bacnet", f"bacnet:{AHU_ID}", equip, (sat,), ctx.clock.now()))
    wait_until(lambda: sim.run(lambda: sim.simulator.recipients(AHU_ID)), what="our address in its list")
    sim.set_value(AHU_ID, SAT, 30.0)
    wait_until(lambda: [e for e in of(got, DeviceEvent) if e.source == "unconfirmed"], what="the notification")
    event = next(e for e in of(got, DeviceEvent) if e.source == "unconfirmed")
    assert (event.device_id, event.point_id, event.to_state) == ("ahu9", "ahu9/sat", "high-limit")


def test_the_alarm_engine_shows_the_devices_alarm_and_an_operators_ack_reaches_the_device(
    ctx: Context, sim: BacnetSimulatorThread
) -> None:
    """Device -> bridge -> DeviceEvent -> alarm engine -> ack in bms -> AcknowledgeAlarm -> the device's acked-transitions."""
    from pathlib import Path

    from actors.components.alarms import AlarmEngine
    from actors.components.nodes import ModelStore
    from actors.components.points import PointStore
    from bms.alarms import AckAlarms, GetAlarm
    from bms.config import LoadedScenario

    got, ours = start(ctx, sim)
    sc = Scenario(site=SiteSpec(id="t", name="T"), devices=[device("ahu1", "ahu", AHU_ID, 30)])
    loaded = LoadedScenario(Path("site.toml"), sc, {"ahu": AHU})
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": loaded}), ChildSpec("points", PointStore),
                 ChildSpec("alarms", AlarmEngine, kwargs={"scenario": sc})):
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    alarms = ctx.registry.get("alarms")
    wait_until(lambda: ours in sim.run(lambda: sim.simulator.recipients(AHU_ID)), what="our address in its list")
    sim.set_value(AHU_ID, SAT, 31.5)
    alarm_id = f"device:ahu1:{SAT}"

    def state() -> str:
        try:
            return str(alarms.ask(GetAlarm(alarm_id=alarm_id)).state)
        except Exception:
            return ""

    wait_until(lambda: state() == "unacknowledged", what="the device's alarm in the engine")
    view = alarms.ask(GetAlarm(alarm_id=alarm_id))
    assert (view.source, view.severity, view.point_id) == ("device", "high", "ahu1/sat")
    assert view.text == "Supply air temperature 31.5 above its high limit 28"
    alarms.ask(AckAlarms(alarm_ids=(alarm_id,), user="olivia"))
    wait_until(lambda: of(got, DeviceAckResult), what="the device's answer to the acknowledgement")
    assert of(got, DeviceAckResult)[0].ok
    assert sim.run(lambda: sim.simulator.acked_transitions(AHU_ID, SAT))[0] is True  # to-offnormal acked there
