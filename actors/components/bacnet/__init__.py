"""``bacnet``: one bridge per BACnet/IP network (``bacnet.<network>``): polling, COV, writes, liveness."""

from __future__ import annotations

from typing import Any

from actors.components import lazy_exports
from bms.components import Component


def _children(platform: Any) -> list[Any]:
    from actors.components.bacnet._bridge import bacnet_bridges

    return bacnet_bridges(platform)


COMPONENT = Component(
    name="bacnet",
    children=_children,
    requires=("nodes", "points"),
    after=("sim-bacnet",),  # the demo's simulated devices answer from the first poll
    description="BACnet/IP bridges: ReadPropertyMultiple polling, COV, prioritised writes, device liveness",
)

__getattr__ = lazy_exports(__name__, {"BacnetBridge": "._bridge", "bacnet_bridges": "._bridge"})
__all__ = ["COMPONENT", "BacnetBridge", "bacnet_bridges"]
