"""``devices``: the site's devices, BACnet discovery, accept and ignore (``discovery.db``)."""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component


def _api(services: Any) -> Any:
    from actors.components.devices._api import ServicesDevices, devices_router

    return devices_router(ServicesDevices(services))


COMPONENT = Component(
    name="devices",
    children=lazy("actors.components.devices._service", "devices_component"),
    requires=("nodes",),
    after=("bacnet", "modbus"),  # device liveness comes from the bridges
    api=_api,
    description="configured and discovered devices; discovery, accept and ignore",
)

__getattr__ = lazy_exports(__name__, {"DevicesGateway": "._api", "devices_router": "._api",
                                      "DevicesService": "._service", "discovery_address": "._service",
                                      "devices_component": "._service"})
__all__ = ["COMPONENT", "DevicesGateway", "DevicesService", "devices_component", "devices_router", "discovery_address"]
