"""``sim-modbus``: the scenario's Modbus devices simulated on loopback (the demo)."""

from __future__ import annotations

from typing import Any

from actors.components import lazy_exports
from bms.components import Component


def _children(platform: Any) -> list[Any]:
    from actors.components.sim_modbus._actor import modbus_simulators

    return modbus_simulators(platform)


COMPONENT = Component(
    name="sim-modbus",
    children=_children,
    after=("points",),
    description="simulated Modbus TCP devices (pymodbus on loopback), when the scenario asks for them",
)

__getattr__ = lazy_exports(__name__, {"ModbusSimulators": "._actor", "modbus_simulators": "._actor",
                                      "ModbusSimulatorThread": "._served"})
__all__ = ["COMPONENT", "ModbusSimulatorThread", "ModbusSimulators", "modbus_simulators"]
