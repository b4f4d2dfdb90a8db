"""Accepting a device pushes its nodes: the bridge, the point store and history ask the model nothing per point.

A discovered device with 200 objects is accepted through the real devices
service into the real model store, which counts the messages it is asked;
the point store, history and a BACnet bridge take the device on from the
DeviceAccepted event alone.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from actors import LOSSLESS, ChildSpec, Context
from actors.components.bacnet import BacnetBridge
from actors.components.devices import DevicesService
from actors.components.history import HistoryStore
from actors.components.nodes import ModelStore
from actors.components.points import PointStore
from bms.bacnet import DiscoveredDevice, DiscoveryStore, ObjectInfo
from bms.clock import ManualClock
from bms.config import BacnetNetwork, LoadedScenario, Scenario, SiteSpec
from bms.config._schema import Networks
from bms.history import HistoryReader
from bms.messages import AcceptDevice, ListPoints, Sample, SampleBatch
from tests.actors.test_site_stores import Collector
from tests.bms.bacnet.loopback import free_port
from tests.conftest import wait_until

POINTS = 200


class CountingModel(ModelStore):
    """The model store, counting what it is asked once the site has started (``asked`` by message type)."""

    def __init__(self, name: str, ctx: Any, site: LoadedScenario, asked: Counter[str]) -> None:
        super().__init__(name, ctx, site)
        self.asked = asked

    def on_receive(self, message: Any) -> Any:
        self.asked[type(message).__name__] += 1
        return super().on_receive(message)


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedScenario:
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=free_port(), timeout=0.3, retries=0)
    scenario = Scenario(site=SiteSpec(id="site", name="Site"), networks=Networks(bacnet={"lan": network}))
    return LoadedScenario(path=tmp_path / "site.toml", scenario=scenario, profiles={})


def discovered(data_dir: Path) -> None:
    objects = tuple(ObjectInfo(objid=f"analog-input,{n}", name=f"Zone {n} temp", units=62, unit="°C", kind="number")
                    for n in range(1, POINTS + 1))
    with DiscoveryStore(data_dir / "discovery.db") as store:
        store.save(DiscoveredDevice(instance=5001, address="127.0.0.250", max_apdu=1476, segmentation="both",
                                    seen=1.0, name="Big controller", network="lan", objects=objects))


def test_accepting_a_device_of_200_points_asks_the_model_nothing_per_point(
        ctx: Context, clock: ManualClock, loaded: LoadedScenario) -> None:
    discovered(ctx.data_dir)
    asked: Counter[str] = Counter()
    for spec in (ChildSpec("nodes", CountingModel, kwargs={"site": loaded, "asked": asked}),
                 ChildSpec("history", HistoryStore), ChildSpec("points", PointStore),
                 ChildSpec("bacnet.lan", BacnetBridge, kwargs={"network_name": "lan", "scenario": loaded.scenario,
                                                               "profiles": {}}),
                 ChildSpec("devices", DevicesService, kwargs={"site": loaded})):
        assert ctx.supervisor.start_child(spec) is not None, ctx.health.get(spec.name)
    polled: list[Any] = []
    collector = ctx.supervisor.start_child(ChildSpec("collector", Collector, kwargs={"out": polled}))
    assert collector is not None
    ctx.registry.subscribe(SampleBatch, collector, LOSSLESS, filter=lambda m: m.source == "bacnet.lan")
    asked.clear()

    record = ctx.registry.get("devices").ask(AcceptDevice(device_id="bacnet:5001", equip_id="big"), timeout=30)
    assert record.state == "Accepted" and record.points == POINTS

    points = ctx.registry.get("points")
    wait_until(lambda: len(points.ask(ListPoints(under="big"), timeout=10)) == POINTS, what="the points loaded")
    listed = points.ask(ListPoints(under="site", tags=("zone",)), timeout=10)
    assert len(listed) == POINTS  # the ancestors above the equipment are known too
    ctx.registry.publish(SampleBatch("test", (Sample("big/zone_200_temp", 21.5, clock.now()),)))
    reader = HistoryReader(ctx.data_dir / "history.db")
    try:
        wait_until(lambda: reader.raw("big/zone_200_temp", 0, clock.now() + 1), what="history of an accepted point")
    finally:
        reader.close()
    wait_until(lambda: any(s.point_id.startswith("big/") for b in polled for s in b.all_samples()),
               what="the bridge polling the accepted device")  # nobody answers there: faults, but polled
    assert asked == Counter({"ListNodes": 1, "UpsertNodes": 1}), asked  # the devices service's own, and no more
