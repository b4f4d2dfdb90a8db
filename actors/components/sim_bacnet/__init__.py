"""``sim-bacnet``: the scenario's BACnet devices simulated on loopback (the demo)."""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.sim.messages import SIM_MESSAGES


def _api(services: Any) -> Any:
    from actors.components.sim_bacnet._api import sim_router

    return sim_router(services)


COMPONENT = Component(
    name="sim-bacnet",
    children=lazy("actors.components.sim_bacnet._actor", "bacnet_simulator"),
    endpoints=lazy("actors.components.sim_bacnet._actor", "simulator_endpoints"),
    after=("points",),
    messages=SIM_MESSAGES,
    api=_api,
    description="simulated BACnet devices (bacpypes3 on loopback), when the scenario asks for them",
)

__getattr__ = lazy_exports(__name__, {"BacnetSimulatorActor": "._actor", "bacnet_simulator": "._actor",
                                      "simulated_devices": "._actor", "BacnetSimulatorThread": "._served"})
__all__ = ["COMPONENT", "BacnetSimulatorActor", "BacnetSimulatorThread", "bacnet_simulator", "simulated_devices"]
