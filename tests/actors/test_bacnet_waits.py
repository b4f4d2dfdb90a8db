"""No device stops the BACnet bridge: a caller waiting on a silent device, the poll schedule, writes, giving up.

Real simulated devices on loopback (devices of this module only); the
bridge's ticks come from the ticker on the manual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pykka
import pytest

from actors import Context
from actors._base import handles
from actors._supervisor import ChildSpec
from actors.components.api._gateway import ActorGateway
from actors.components.bacnet import BacnetBridge
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from actors.components.sim_bacnet import BacnetSimulatorThread
from bms.config import BacnetNetwork, LoadedScenario, Scenario, SiteSpec
from bms.config._schema import Networks
from bms.errors import DeviceTimeout
from bms.messages import (
    DeviceDown,
    DeviceWrite,
    Ping,
    ReadDevicePriority,
    SampleBatch,
    WriteResult,
)
from bms.sim.bacnet import BacnetSimulator, SimDevice
from bms.supervision import Health, RestartPolicy
from tests.actors.test_bacnet_bridge import ODD, PROFILES, Collector, Site, device
from tests.bms.bacnet.loopback import free_port, host, profile
from tests.conftest import wait_until

AHU, VAV = profile("ahu"), profile("vav")
AHU_ID, SPARE_ID, ODD_ID = 3501, 3502, 3503


@pytest.fixture(scope="module")
def sim() -> Iterator[BacnetSimulatorThread]:
    devices = [SimDevice(AHU_ID, host(56), AHU), SimDevice(SPARE_ID, host(57), VAV), SimDevice(ODD_ID, host(58), ODD)]
    running = BacnetSimulatorThread(BacnetSimulator(devices, free_port(), interval=None))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def silent_spare(sim: BacnetSimulatorThread) -> Iterator[None]:
    sim.set_offline(SPARE_ID)
    try:
        yield
    finally:
        sim.set_offline(SPARE_ID, False)


def scenario(sim: BacnetSimulatorThread, *, timeout: float = 0.3, retries: int = 0, address: str = "") -> Scenario:
    network = BacnetNetwork(address=address or f"127.0.0.1/8:{free_port()}", device_port=sim.simulator.device_port,
                            poll_interval=1.0, timeout=timeout, retries=retries)
    return Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": network}), devices=[
        device("ahu1", "ahu", AHU_ID, 56), device("spare", "vav", SPARE_ID, 57)])


def start(ctx: Context, sc: Scenario, bridge: type[BacnetBridge] = BacnetBridge, **spec: Any) -> Site:
    got: list[Any] = []
    types = (SampleBatch, DeviceDown, WriteResult)
    ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"got": got, "types": types}))
    ctx.supervisor.start_child(ChildSpec("bacnet.lan", bridge, kwargs={
        "network_name": "lan", "scenario": sc, "profiles": PROFILES}, **spec))
    return Site(ctx, got)


def polls(site: Site, device_id: str) -> list[SampleBatch]:
    """The device's poll batches (a COV notification's batch and a write's read-back are not polls)."""
    return [b for b in site.batches_of(device_id) if len(b.all_samples()) > 2]


def restarts(ctx: Context) -> int:
    status = ctx.health.get("bacnet.lan")
    assert status is not None
    return status.restarts


# ----------------------------------------------------------- a caller waits on a silent device


def test_a_priority_read_of_a_silent_device_never_holds_up_the_polls_of_the_others(
    ctx: Context, sim: BacnetSimulatorThread, silent_spare: None
) -> None:
    site = start(ctx, scenario(sim, timeout=2.0))
    site.advance_until(lambda: polls(site, "ahu1"), 1.0, what="the AHU's first poll")
    bridge = ctx.registry.get("bacnet.lan")
    waiting = bridge.ask(ReadDevicePriority(point_id="spare/damper"), block=False)
    before = len(polls(site, "ahu1"))
    site.clock.advance(1.0)
    site.advance_until(lambda: len(polls(site, "ahu1")) > before, 1.0, what="the AHU polled while the read waits")
    with pytest.raises(pykka.Timeout):
        waiting.get(timeout=0)  # the silent device has not answered yet: the AHU did not wait for it
    assert bridge.ask(Ping(), timeout=1.0) == "bacnet.lan"  # nor does any other ask
    with pytest.raises(DeviceTimeout, match="no answer"):
        waiting.get(timeout=10.0)  # a refusal to the caller
    assert restarts(ctx) == 0


def test_a_caller_is_answered_within_its_time_and_the_bridge_lives(
    ctx: Context, sim: BacnetSimulatorThread, silent_spare: None
) -> None:
    """The client would wait 7 s (3 s, one retry); callers that wait 1 s each get a DeviceTimeout in time."""
    site = start(ctx, scenario(sim, timeout=3.0, retries=1))
    site.advance_until(lambda: polls(site, "ahu1"), 1.0, what="the AHU's first poll")
    bridge = ctx.registry.get("bacnet.lan")
    waiting = [bridge.ask(ReadDevicePriority(point_id="spare/damper", timeout=1.0), block=False) for _ in range(6)]
    for answer in waiting:
        with pytest.raises(DeviceTimeout, match=r"spare/damper: no answer .* within 1 s"):
            answer.get(timeout=3.0)
    assert restarts(ctx) == 0 and ctx.health.get("bacnet.lan").state != Health.DOWN.value  # type: ignore[union-attr]
    held = bridge.ask(ReadDevicePriority(point_id="ahu1/clg_valve"), timeout=5.0)
    assert held.levels is not None and len(held.levels) == 16  # a device that answers, answers


def test_the_api_shows_our_levels_and_why_the_device_levels_are_missing(
    ctx: Context, sim: BacnetSimulatorThread, silent_spare: None, tmp_path: Path
) -> None:
    sc = scenario(sim)
    site = LoadedScenario(path=tmp_path / "site.toml", scenario=sc, profiles=PROFILES)
    for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": site}), ChildSpec("points", PointStore)):
        assert ctx.supervisor.start_child(spec) is not None
    start(ctx, sc)
    gateway = ActorGateway(ctx, tmp_path / "history.db")
    try:
        silent = asyncio.run(gateway.priority_array("spare/damper"))
        answering = asyncio.run(gateway.priority_array("ahu1/clg_valve"))
    finally:
        gateway.shutdown()
    assert len(silent.levels) == 16 and silent.device_levels is None
    assert silent.device_error.startswith("spare/damper: no answer from ")
    assert answering.device_levels is not None and not answering.device_error


# ----------------------------------------------------------- the poll schedule


def test_every_tick_polls_even_when_ticks_are_handled_late(ctx: Context, sim: BacnetSimulatorThread) -> None:
    """A tick handled 50 ms late must not push the device's next poll past the next tick."""
    site = start(ctx, scenario(sim))
    site.advance_until(lambda: polls(site, "ahu1"), 1.0, what="the first poll")  # the clock on a tick's due time
    count = len(polls(site, "ahu1"))
    for k, step in enumerate((1.05, 0.95, 1.05, 0.95, 1.05, 0.95), start=1):  # handled 50 ms late, then on time
        assert site.clock.wait_for_waiters(1)  # the ticker waits for the next due time
        site.clock.advance(step)
        wait_until(lambda: len(polls(site, "ahu1")) == count + k, what=f"the poll of tick {k}")  # noqa: B023
    assert len(polls(site, "ahu1")) == count + 6


# ----------------------------------------------------------- every write is answered


def test_a_write_to_a_bridge_whose_network_is_down_is_answered_with_the_reason(
    ctx: Context, sim: BacnetSimulatorThread
) -> None:
    site = start(ctx, scenario(sim, address="nowhere"))
    assert ctx.health.get("bacnet.lan").state == Health.DOWN.value  # type: ignore[union-attr]
    ctx.registry.publish(DeviceWrite(point_id="spare/damper", value=50.0, priority=8, request_id="r41"))
    wait_until(lambda: site.of(WriteResult), what="the write's answer")
    (result,) = site.of(WriteResult)
    assert (result.point_id, result.ok, result.request_id) == ("spare/damper", False, "r41")
    assert "nowhere" in result.error


def test_a_write_in_flight_when_the_bridge_stops_is_answered(
    ctx: Context, sim: BacnetSimulatorThread, silent_spare: None
) -> None:
    site = start(ctx, scenario(sim, timeout=5.0))
    site.advance_until(lambda: polls(site, "ahu1"), 1.0, what="the AHU's first poll")
    ctx.registry.publish(DeviceWrite(point_id="spare/damper", value=50.0, priority=8, request_id="r42"))
    ctx.registry.get("bacnet.lan").ask(Ping())  # the write is on the loop, waiting for the silent device
    ctx.supervisor.ref("bacnet.lan").stop(block=True, timeout=10)  # type: ignore[union-attr]
    wait_until(lambda: site.of(WriteResult), what="the write's answer")
    (result,) = site.of(WriteResult)
    assert (result.point_id, result.ok, result.request_id) == ("spare/damper", False, "r42")
    assert "stopped" in result.error


# ----------------------------------------------------------- a bridge that gives up flags its points


class Breakdown(msgspec.Struct, frozen=True):
    """Makes :class:`BrittleBridge` fail (a bug's stand-in)."""


class BrittleBridge(BacnetBridge):
    @handles(Breakdown)
    def on_breakdown(self, _msg: Breakdown) -> None:
        raise RuntimeError("a bug in the bridge")


def test_a_bridge_stopped_for_good_reports_its_devices_down_at_once(ctx: Context, sim: BacnetSimulatorThread) -> None:
    site = start(ctx, scenario(sim), BrittleBridge, policy=RestartPolicy(max_restarts=0))
    site.advance_until(lambda: polls(site, "ahu1") and polls(site, "spare"), 1.0, what="the first polls")
    ctx.registry.get("bacnet.lan").tell(Breakdown())
    wait_until(lambda: len(site.of(DeviceDown)) == 2, what="both devices down")
    assert ctx.health.get("bacnet.lan").state == Health.DOWN.value  # type: ignore[union-attr]
    assert {d.device_id for d in site.of(DeviceDown)} == {"ahu1", "spare"}
    assert all("bacnet.lan stopped" in d.reason and "a bug in the bridge" in d.reason for d in site.of(DeviceDown))
    faulted = {s.point_id for b in site.of(SampleBatch) for s in b.all_samples() if s.fault and "bacnet.lan stopped" in s.fault}
    assert faulted == {f"ahu1/{p.key}" for p in AHU.points} | {f"spare/{p.key}" for p in VAV.points}
