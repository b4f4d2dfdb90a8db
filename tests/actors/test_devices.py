"""The devices service: discovery of real simulated devices, accept into the real model store, ignore."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog.testing

from actors import Context
from actors._supervisor import ChildSpec
from actors.components.bacnet import BacnetBridge
from actors.components.devices import DevicesService, discovery_address
from actors.components.nodes import ModelStore
from actors.components.sim_bacnet import BacnetSimulatorThread
from bms.bacnet import DiscoveryStore
from bms.bacnet._accept import PENDING_NAME, PendingAccept, write_pending
from bms.config import BacnetDevice, BacnetNetwork, LoadedScenario, Scenario, SiteSpec
from bms.config._schema import Networks
from bms.errors import BmsError, ConfigError, NotFound
from bms.messages import (
    AcceptDevice,
    DeviceAccepted,
    DeviceDiscovered,
    DeviceDown,
    DeviceRecord,
    DiscoverDevices,
    DiscoveryProgress,
    DiscoveryScanComplete,
    GetDevice,
    GetNode,
    IgnoreDevice,
    ListDevices,
    Sample,
    SampleBatch,
)
from bms.model import Node
from bms.sim.bacnet import BacnetSimulator, SimDevice
from tests.actors.test_bacnet_bridge import Collector
from tests.bms.bacnet.loopback import free_port, host, profile
from tests.conftest import wait_until

AHU, VAV = profile("ahu"), profile("vav")
AHU_ID, VAV1_ID, VAV2_ID = 4001, 4101, 4102


@pytest.fixture(scope="module")
def sim() -> Iterator[BacnetSimulatorThread]:
    devices = [SimDevice(AHU_ID, host(40), AHU), SimDevice(VAV1_ID, host(41), VAV), SimDevice(VAV2_ID, host(42), VAV)]
    running = BacnetSimulatorThread(BacnetSimulator(devices, free_port(), interval=None))
    try:
        yield running
    finally:
        running.stop()


def loaded(tmp_path: Path, sim: BacnetSimulatorThread) -> LoadedScenario:
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=sim.simulator.device_port,
                            poll_interval=1.0, timeout=0.3, retries=0)
    scenario = Scenario(
        site=SiteSpec(id="site", name="Site"), networks=Networks(bacnet={"lan": network}),
        devices=[BacnetDevice(id="ahu1", name="AHU-1", profile="ahu", network="lan",
                              address=host(40), device_instance=AHU_ID)],
    )
    return LoadedScenario(path=tmp_path / "site.toml", scenario=scenario, profiles={"ahu": AHU})


def ask_node(ctx: Context, node_id: str) -> Node:
    found = ctx.registry.get("nodes").ask(GetNode(node_id=node_id), timeout=5)
    assert isinstance(found, Node)
    return found


class Site:
    def __init__(self, ctx: Context, site: LoadedScenario, *, nodes: bool = True) -> None:
        self.ctx, self.site = ctx, site
        self.got: list[Any] = []
        types = (DeviceDiscovered, DiscoveryScanComplete, DiscoveryProgress, DeviceAccepted, SampleBatch)
        ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"got": self.got, "types": types}))
        if nodes:
            ctx.supervisor.start_child(ChildSpec("nodes", ModelStore, kwargs={"site": site}))
            ctx.registry.register_name("nodes", ctx.supervisor.ref("nodes"))  # type: ignore[arg-type]
        self.devices = ctx.supervisor.start_child(ChildSpec("devices", DevicesService, kwargs={"site": site}))
        assert self.devices is not None

    def ask(self, msg: Any) -> Any:
        return self.devices.ask(msg, timeout=30)  # type: ignore[union-attr]

    def node(self, node_id: str) -> Node:
        return ask_node(self.ctx, node_id)

    def of(self, kind: type) -> list[Any]:
        return [m for m in list(self.got) if isinstance(m, kind)]

    def discover(self) -> list[DeviceRecord]:
        return self.ask(DiscoverDevices(low=4000, high=4999, timeout=0.5))  # type: ignore[no-any-return]


def test_discovery_finds_the_devices_and_their_objects(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    found = site.discover()
    assert [(r.device_id, r.state) for r in found] == [
        ("ahu1", "Configured"), ("bacnet:4101", "Discovered"), ("bacnet:4102", "Discovered")]  # one id everywhere
    vav = found[1]
    assert (vav.name, vav.model, vav.objects, vav.address) == (
        "VAV-4101", "SIM-VAV", len(VAV.points) + 1, sim.simulator.address_of(VAV1_ID))  # + network-port
    wait_until(lambda: site.of(DiscoveryScanComplete), what="the scan summary")
    assert sorted(m.device_id for m in site.of(DeviceDiscovered)) == ["ahu1", "bacnet:4101", "bacnet:4102"]
    (done,) = site.of(DiscoveryScanComplete)
    assert (done.found, done.network) == (3, "lan")
    with DiscoveryStore(ctx.data_dir / "discovery.db") as store:
        names = {o.objid: o.name for o in store.objects(VAV1_ID)}
    assert names["analog-output,1"] == "Damper command"
    listed = site.ask(ListDevices())
    assert [r.device_id for r in listed] == ["ahu1", "bacnet:4101", "bacnet:4102"]
    ahu = site.ask(GetDevice(device_id="ahu1"))
    assert (ahu.state, ahu.objects, ahu.points) == ("Configured", len(AHU.points) + 4, len(AHU.points))  # + port, NC, calendars


def test_the_service_answers_while_a_scan_runs(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    scanning = site.devices.ask(DiscoverDevices(low=4000, high=4999, timeout=2.0), block=False)  # I-Ams for 2 s
    listed = site.devices.ask(ListDevices(), timeout=1.0)  # during the scan
    assert [r.device_id for r in listed] == ["ahu1"]
    assert site.devices.ask(GetDevice(device_id="ahu1"), timeout=1.0).state == "Configured"
    found = scanning.get(timeout=30)
    assert [r.device_id for r in found] == ["ahu1", "bacnet:4101", "bacnet:4102"]
    assert [r.device_id for r in site.ask(ListDevices())] == ["ahu1", "bacnet:4101", "bacnet:4102"]  # saved


def test_a_scan_publishes_its_progress_and_its_end_under_the_callers_name(
    ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread
) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    found = site.ask(DiscoverDevices(low=4000, high=4999, timeout=0.5, scan="scan-1"))
    wait_until(lambda: site.of(DiscoveryScanComplete), what="the scan summary")
    (done,) = site.of(DiscoveryScanComplete)
    assert (done.scan, done.found) == ("scan-1", 3)
    steps = site.of(DiscoveryProgress)
    assert {p.scan for p in steps} == {"scan-1"} and {p.network for p in steps} == {"lan"}
    assert (steps[0].task, steps[0].done, steps[0].total) == ("who-is", 0, 1)
    assert (steps[-1].devices, steps[-1].objects) == (3, sum(r.objects for r in found))
    last = {p.task: (p.done, p.total) for p in steps}
    assert last["device 4101"] == (len(VAV.points) + 2, len(VAV.points) + 2)  # the device object, then each object


def test_a_scan_cut_short_by_a_stop_is_answered(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    scanning = site.devices.ask(DiscoverDevices(low=4000, high=4999, timeout=5.0), block=False)
    site.ask(ListDevices())
    site.devices.stop(block=True, timeout=10)  # type: ignore[union-attr]
    with pytest.raises(BmsError, match=r"scan \w+ interrupted"):
        scanning.get(timeout=5)
    wait_until(lambda: site.of(DiscoveryScanComplete), what="its followers told it ended")
    (ended,) = site.of(DiscoveryScanComplete)
    assert ended.found == 0 and "interrupted" in ended.error


def test_accept_builds_the_equipment_and_its_points(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    site.discover()
    record = site.ask(AcceptDevice(device_id="bacnet:4101"))
    assert (record.state, record.points, record.reason) == ("Accepted", len(VAV.points), "equipment 'vav-4101'")
    equip = site.node("vav-4101")
    assert (equip.type, equip.parent, equip.name) == ("Equip", "site", "VAV-4101")
    assert (equip.properties["address"], equip.properties["device_instance"], equip.properties["network"]) == (
        sim.simulator.address_of(VAV1_ID), VAV1_ID, "lan")
    damper = site.node("vav-4101/damper_command")
    assert damper.binding is not None and damper.binding.bacnet is not None
    assert (damper.binding.device, damper.binding.bacnet.object) == ("vav-4101", "analog-output,1")
    assert damper.capabilities.writable and {"cmd", "damper", "point"} <= set(damper.tags)
    zone = site.node("vav-4101/zone_temperature")
    assert {"zone", "air", "temp", "sensor"} <= set(zone.tags) and zone.tag_values["unit"] == "°C"
    assert zone.binding.bacnet.cov  # type: ignore[union-attr]
    wait_until(lambda: site.of(DeviceAccepted), what="DeviceAccepted")
    (accepted,) = site.of(DeviceAccepted)
    assert (accepted.device_id, accepted.equip_id, len(accepted.point_ids)) == ("bacnet:4101", "vav-4101", 5)
    with pytest.raises(BmsError, match="already part of the site"):
        site.ask(AcceptDevice(device_id="bacnet:4101"))
    with pytest.raises(BmsError, match="configured in the scenario"):
        site.ask(AcceptDevice(device_id="ahu1"))
    assert site.ask(GetDevice(device_id="vav-4101")).device_id == "bacnet:4101"


def test_accept_with_a_profile_and_an_equipment_id(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    site.discover()
    with pytest.raises(ConfigError, match="no profile named 'vax' \\(did you mean 'vav'\\?\\)"):
        site.ask(AcceptDevice(device_id="bacnet:4102", profile="vax"))
    with pytest.raises(BmsError, match="node 'ahu1' already exists"):
        site.ask(AcceptDevice(device_id="bacnet:4102", profile="vav", equip_id="ahu1"))
    record = site.ask(AcceptDevice(device_id="bacnet:4102", profile="vav", equip_id="vav9"))
    assert record.state == "Accepted"
    assert site.node("vav9").properties["profile"] == "vav"
    assert site.node("vav9/zone_sp").properties["relinquish_default"] == 22.0


def test_ignore_and_rediscovery_keep_states(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    site.discover()
    site.ask(AcceptDevice(device_id="bacnet:4101"))
    assert site.ask(IgnoreDevice(device_id="4102")).state == "Ignored"
    with pytest.raises(BmsError, match="cannot be ignored"):
        site.ask(IgnoreDevice(device_id="bacnet:4101"))
    again = {r.device_id: r.state for r in site.discover()}
    assert again == {"ahu1": "Configured", "bacnet:4101": "Accepted", "bacnet:4102": "Ignored"}


def test_an_ignored_device_is_logged(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    site.discover()
    with structlog.testing.capture_logs() as logs:
        site.ask(IgnoreDevice(device_id="4102"))
    assert [(e["event"], e["device"]) for e in logs if e["event"] == "device ignored"] == [
        ("device ignored", "bacnet:4102")]


def test_unknown_devices_and_online_state(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site = Site(ctx, loaded(tmp_path, sim))
    with pytest.raises(NotFound, match="unknown device 'ahu2' \\(did you mean 'ahu1'\\?\\)"):
        site.ask(GetDevice(device_id="ahu2"))
    with pytest.raises(NotFound, match="run a discovery first"):
        site.ask(AcceptDevice(device_id="bacnet:9"))
    assert site.ask(GetDevice(device_id="ahu1")).online is None
    ctx.registry.publish(SampleBatch(source="b", samples=(Sample("ahu1/oat", 1.0, 1.0),)))
    wait_until(lambda: site.ask(GetDevice(device_id="ahu1")).online is True, what="online at its first poll")
    ctx.registry.publish(DeviceDown(protocol="bacnet", device_id="ahu1", ts=1.0, reason="no answer"))
    wait_until(lambda: site.ask(GetDevice(device_id="ahu1")).online is False, what="offline")
    ctx.registry.publish(SampleBatch(source="b", samples=(Sample("ahu1/oat", None, 1.0, fault="no answer"),)))
    assert site.ask(GetDevice(device_id="ahu1")).online is False


def test_accepted_device_is_polled_by_the_bridge(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site_config = loaded(tmp_path, sim)
    site = Site(ctx, site_config)
    ctx.supervisor.start_child(ChildSpec("bacnet.lan", BacnetBridge, kwargs={
        "network_name": "lan", "scenario": site_config.scenario, "profiles": site_config.profiles}))
    site.discover()
    site.ask(AcceptDevice(device_id="bacnet:4102", profile="vav", equip_id="vav2"))
    wait_until(lambda: any(s.point_id == "vav2/zone_sp" for b in site.of(SampleBatch) for s in b.all_samples()),
               what="the accepted device polled")
    sample = next(s for b in site.of(SampleBatch) for s in b.all_samples() if s.point_id == "vav2/zone_sp")
    assert (sample.value, sample.fault) == (22.0, None)


def test_offline_accepts_are_completed_on_start(ctx: Context, tmp_path: Path, sim: BacnetSimulatorThread) -> None:
    site_config = loaded(tmp_path, sim)
    first = Site(ctx, site_config, nodes=False)  # no nodes service: accept only marks it
    first.discover()
    record = first.ask(AcceptDevice(device_id="bacnet:4101", profile="vav", equip_id="box1"))
    assert record.state == "Accepted" and "nodes are created" in record.reason
    assert (ctx.data_dir / PENDING_NAME).exists()
    ctx.supervisor.stop_all(timeout=5)
    ctx.supervisor.start_child(ChildSpec("nodes", ModelStore, kwargs={"site": site_config}))
    ctx.registry.register_name("nodes", ctx.supervisor.ref("nodes"))  # type: ignore[arg-type]
    ctx.supervisor.start_child(ChildSpec("devices", DevicesService, kwargs={"site": site_config}))
    node = ask_node(ctx, "box1/damper")
    assert node.binding is not None and node.binding.bacnet is not None
    assert node.binding.bacnet.object == "analog-output,1"
    assert not (ctx.data_dir / PENDING_NAME).exists()


def test_pending_file_round_trip(tmp_path: Path) -> None:
    write_pending(tmp_path, [PendingAccept(instance=7, profile="vav")])
    assert (tmp_path / PENDING_NAME).read_text() == '[{"instance":7,"profile":"vav"}]'
    write_pending(tmp_path, [])
    assert not (tmp_path / PENDING_NAME).exists()


def test_discovery_takes_a_port_of_its_own() -> None:
    address = discovery_address(BacnetNetwork(address="127.0.0.1/8:47809"))
    assert address.startswith("127.0.0.1/8:") and not address.endswith(":47809")
