"""Field devices: the known ones, discovery, accept and ignore."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import Body

from bms.api._errors import error_responses
from bms.api._gateway import Gateway
from bms.api._params import DeviceId, Protocol
from bms.api._wire import AcceptBody, DiscoverBody
from bms.messages import AcceptDevice, DeviceRecord, DiscoverDevices, IgnoreDevice, ListDevices


def devices_router(gateway: Gateway) -> Router:
    @get("/", operation_id="listDevices", responses=error_responses(503))
    async def list_devices(protocol: Protocol = None) -> list[DeviceRecord]:
        """Devices of the site and those found by discovery."""
        return await gateway.devices(ListDevices(protocol=protocol))

    @get("/{device_id:str}", operation_id="getDevice", responses=error_responses(404, 503))
    async def device(device_id: DeviceId) -> DeviceRecord:
        """One device: address, identity, state, online."""
        return await gateway.device(device_id)

    @post("/discover", operation_id="discoverDevices", status_code=200,
          responses=error_responses(413, 502, 503, 504))
    async def discover(data: Annotated[DiscoverBody | None, Body()] = None) -> list[DeviceRecord]:
        """Scan a network for devices; waits for the scan (its timeout and more)."""
        body = data or DiscoverBody()
        return await gateway.discover(DiscoverDevices(
            protocol=body.protocol, low=body.low, high=body.high, timeout=body.timeout, network=body.network
        ))

    @post("/{device_id:str}/accept", operation_id="acceptDevice", status_code=200,
          responses=error_responses(404, 409, 413, 502, 503, 504))
    async def accept(device_id: DeviceId, data: Annotated[AcceptBody | None, Body()] = None) -> DeviceRecord:
        """Take a discovered device into the site, with a profile and an equipment id."""
        body = data or AcceptBody()
        return await gateway.accept(AcceptDevice(device_id=device_id, profile=body.profile, equip_id=body.equip_id))

    @post("/{device_id:str}/ignore", operation_id="ignoreDevice", status_code=200,
          responses=error_responses(404, 409, 503))
    async def ignore(device_id: DeviceId) -> DeviceRecord:
        """Hide a discovered device from further discovery results."""
        return await gateway.ignore(IgnoreDevice(device_id=device_id))

    return Router("/api/devices", route_handlers=[list_devices, device, discover, accept, ignore], tags=["devices"])
