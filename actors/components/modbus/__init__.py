"""``modbus``: one bridge per Modbus network (``modbus.<network>``), TCP or RTU."""

from __future__ import annotations

from actors.components import lazy, lazy_exports
from bms.components import Component

COMPONENT = Component(
    name="modbus",
    children=lazy("actors.components.modbus._bridge", "modbus_bridges"),
    requires=("nodes", "points"),
    after=("sim-modbus",),  # the demo's simulated meter answers from the first poll
    description="Modbus TCP/RTU bridges: planned block reads, checked writes, device liveness",
)

__getattr__ = lazy_exports(__name__, {"ModbusBridge": "._bridge", "modbus_bridges": "._bridge"})
__all__ = ["COMPONENT", "ModbusBridge", "modbus_bridges"]
