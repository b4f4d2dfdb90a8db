"""The simulator component takes faults for its air handlers: from the scenario's ``[simulate] faults`` at
start and by :class:`~bms.sim.messages.InjectSimFault`; a device that is not an AHU, or unknown, is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors import Context
from actors._supervisor import ChildSpec
from actors.components.sim_bacnet import BacnetSimulatorActor
from bms.config import Scenario, SiteSpec, load_scenario
from bms.config._schema import BacnetNetwork, Networks, SimulateSpec
from bms.errors import ConfigError, NotFound
from bms.sim.messages import InjectSimFault
from bms.supervision import Health
from tests.actors.test_bacnet_bridge import PROFILES, device
from tests.bms.bacnet.loopback import free_port
from tests.conftest import ROOT


def test_faults_from_the_scenario_and_injected(ctx: Context) -> None:
    network = BacnetNetwork(address=f"127.0.0.1/8:{free_port()}", device_port=free_port())
    sc = Scenario(site=SiteSpec(id="t", name="T"), networks=Networks(bacnet={"lan": network}),
                  devices=[device("ahu8", "ahu", 3801, 80), device("vav8", "vav", 3802, 81)],
                  simulate=SimulateSpec(faults={"ahu8": ["damper-stuck"]}))
    ref = ctx.supervisor.start_child(ChildSpec("sim-bacnet", BacnetSimulatorActor, kwargs={
        "scenario": sc, "profiles": PROFILES, "interval": None}))
    assert ref is not None
    assert ctx.health.get("sim-bacnet").state == Health.HEALTHY.value  # type: ignore[union-attr]
    found = ref.ask(InjectSimFault(device="ahu8", fault="mat-drift", user="olga"))
    assert found.faults == ("damper-stuck", "mat-drift")
    assert ref.ask(InjectSimFault(device="ahu8", fault="clear")).faults == ()
    with pytest.raises(ConfigError, match="unknown fault 'fire'"):
        ref.ask(InjectSimFault(device="ahu8", fault="fire"))
    with pytest.raises(NotFound, match="not an air handler"):
        ref.ask(InjectSimFault(device="vav8", fault="damper-stuck"))
    with pytest.raises(NotFound, match="ahu7"):
        ref.ask(InjectSimFault(device="ahu7", fault="damper-stuck"))


def test_an_unknown_fault_in_the_scenario_is_refused_at_load(tmp_path: Path) -> None:
    text = (ROOT / "conf/scenarios/demo.toml").read_text(encoding="utf-8").replace(
        'profile_dirs = ["../profiles"]', f'profile_dirs = ["{ROOT / "conf/profiles"}"]').replace(
        "modbus_port = 15020", 'modbus_port = 15020\nfaults = { ahu1 = ["fire"] }')
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert any("simulate.faults" in p and "fire" in p for p in caught.value.problems), caught.value.problems
