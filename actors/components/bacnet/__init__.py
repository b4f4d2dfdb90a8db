"""``bacnet``: one bridge per BACnet/IP network (``bacnet.<network>``): polling, COV, writes, liveness."""

from __future__ import annotations

from actors.components import lazy, lazy_exports
from bms.components import Component

COMPONENT = Component(
    name="bacnet",
    children=lazy("actors.components.bacnet._bridge", "bacnet_bridges"),
    requires=("nodes", "points"),
    endpoints=lazy("actors.components.bacnet._bridge", "bacnet_endpoints"),
    after=("sim-bacnet",),  # the demo's simulated devices answer from the first poll
    description="BACnet/IP bridges: ReadPropertyMultiple polling, COV, prioritised writes, device liveness",
)

__getattr__ = lazy_exports(__name__, {"BacnetBridge": "._bridge", "bacnet_bridges": "._bridge",
                                      "bacnet_bridge_names": "._bridge", "SCHEDULE_TIMEOUT": "._schedules"})
__all__ = ["COMPONENT", "SCHEDULE_TIMEOUT", "BacnetBridge", "bacnet_bridge_names", "bacnet_bridges"]
