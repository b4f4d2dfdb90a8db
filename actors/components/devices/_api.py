"""The devices component's slice of the API: the known devices, discovery and probes, accept, ignore, remove.

``devices_router`` serves a :class:`DevicesGateway`; the daemon's is
:class:`ServicesDevices`, which asks the ``devices`` service, the API
tests' is their in-memory site.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from litestar import Request, Router, delete, get, post
from litestar.params import Body

from bms.api import AcceptBody, DiscoverBody
from bms.api.routing import DeviceId, ProtocolName, Services, error_responses, identity_of, requires
from bms.devices import scan_seconds
from bms.messages import (
    AcceptDevice,
    DeviceRecord,
    DiscoverDevices,
    GetDevice,
    IgnoreDevice,
    ListDevices,
    RemoveDevice,
)

SERVICE = "devices"
DISCOVERY_MARGIN = 30.0  # a scan may take this long beyond its own timeout


class DevicesGateway(Protocol):
    async def devices(self, query: ListDevices) -> list[DeviceRecord]: ...

    async def device(self, device_id: str) -> DeviceRecord: ...

    async def discover(self, query: DiscoverDevices) -> list[DeviceRecord]: ...

    async def accept(self, command: AcceptDevice) -> DeviceRecord: ...

    async def ignore(self, command: IgnoreDevice) -> DeviceRecord: ...

    async def remove(self, command: RemoveDevice) -> DeviceRecord: ...


class ServicesDevices:
    """The gateway over the running site: the ``devices`` service."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def _ask(self, message: Any, timeout: float | None = None) -> Any:
        return await self.services.ask(SERVICE, message, timeout)

    async def devices(self, query: ListDevices) -> list[DeviceRecord]:
        return list(await self._ask(query))

    async def device(self, device_id: str) -> DeviceRecord:
        record: DeviceRecord = await self._ask(GetDevice(device_id=device_id))
        return record

    async def discover(self, query: DiscoverDevices) -> list[DeviceRecord]:
        units = len(query.units) or (query.high - query.low + 1 if query.low is not None and query.high is not None else 0)
        return list(await self._ask(query, timeout=scan_seconds(query.protocol, query.timeout, units)
                                    + DISCOVERY_MARGIN))

    async def accept(self, command: AcceptDevice) -> DeviceRecord:
        record: DeviceRecord = await self._ask(command)
        return record

    async def ignore(self, command: IgnoreDevice) -> DeviceRecord:
        record: DeviceRecord = await self._ask(command)
        return record

    async def remove(self, command: RemoveDevice) -> DeviceRecord:
        record: DeviceRecord = await self._ask(command)
        return record


def devices_router(gateway: DevicesGateway) -> Router:
    @get("/", operation_id="listDevices", **requires("read"), responses=error_responses(503))
    async def list_devices(protocol: ProtocolName = None) -> list[DeviceRecord]:
        """Devices of the site and those found by discovery."""
        return await gateway.devices(ListDevices(protocol=protocol))

    @get("/{device_id:str}", operation_id="getDevice", **requires("read"), responses=error_responses(404, 503))
    async def device(device_id: DeviceId) -> DeviceRecord:
        """One device: address, identity, state, online."""
        return await gateway.device(device_id)

    @post("/discover", operation_id="discoverDevices", **requires("devices"), status_code=200,
          responses=error_responses(413, 502, 503, 504))
    async def discover(data: Annotated[DiscoverBody | None, Body()] = None) -> list[DeviceRecord]:
        """Scan a network for devices (BACnet), or probe the unit ids of ``network`` HOST:PORT (Modbus: ``units``,
        else ``low``..``high``, ``timeout`` per unit); waits for the scan. What it finds is kept as discovered devices.

        Give ``scan`` an id and open ``GET /api/stream?scan=<id>`` first to follow
        its DiscoveryProgress (devices found, objects read, unit ids tried) while it runs."""
        body = data or DiscoverBody()
        return await gateway.discover(DiscoverDevices(
            protocol=body.protocol, low=body.low, high=body.high, timeout=body.timeout, network=body.network,
            scan=body.scan, units=body.units,
        ))

    @post("/{device_id:str}/accept", operation_id="acceptDevice", **requires("devices"), status_code=200,
          responses=error_responses(404, 409, 413, 502, 503, 504))
    async def accept(device_id: DeviceId, data: Annotated[AcceptBody | None, Body()] = None) -> DeviceRecord:
        """Take a discovered device into the site, with a profile and an equipment id."""
        body = data or AcceptBody()
        return await gateway.accept(AcceptDevice(device_id=device_id, profile=body.profile, equip_id=body.equip_id))

    @post("/{device_id:str}/ignore", operation_id="ignoreDevice", **requires("devices"), status_code=200,
          responses=error_responses(404, 409, 503))
    async def ignore(device_id: DeviceId) -> DeviceRecord:
        """Hide a discovered device from further discovery results."""
        return await gateway.ignore(IgnoreDevice(device_id=device_id))

    @delete("/{device_id:str}", operation_id="removeDevice", **requires("devices"), status_code=200,
            responses=error_responses(404, 409, 503))
    async def remove(request: Request[Any, Any, Any], device_id: DeviceId) -> DeviceRecord:
        """Take an accepted device out of the site: its equipment, points and bindings; its bridge stops
        polling it (history is kept). The device is Discovered again."""
        return await gateway.remove(RemoveDevice(device_id=device_id, user=identity_of(request).user))

    return Router("/api/devices", route_handlers=[list_devices, device, discover, accept, ignore, remove],
                  tags=["devices"])
