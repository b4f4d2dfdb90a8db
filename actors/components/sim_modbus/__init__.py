"""``sim-modbus``: the scenario's Modbus devices simulated on loopback (the demo)."""

from __future__ import annotations

from actors.components import lazy, lazy_exports
from bms.components import Component

COMPONENT = Component(
    name="sim-modbus",
    children=lazy("actors.components.sim_modbus._actor", "modbus_simulators"),
    endpoints=lazy("actors.components.sim_modbus._actor", "modbus_endpoints"),
    after=("points",),
    description="simulated Modbus TCP devices (pymodbus on loopback), when the scenario asks for them",
)

__getattr__ = lazy_exports(__name__, {"ModbusSimulators": "._actor", "modbus_simulators": "._actor",
                                      "ModbusSimulatorThread": "._served"})
__all__ = ["COMPONENT", "ModbusSimulatorThread", "ModbusSimulators", "modbus_simulators"]
