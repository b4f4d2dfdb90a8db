"""bacpypes3 application plumbing shared by the client and the simulator.

A bacpypes3 ``Application`` opens its UDP sockets in background tasks; a
Who-Is sent before a device's broadcast socket is bound is simply lost, and
an application closed before its sockets exist leaks them. So: build, then
:func:`await_bound`; stop with :func:`close_application`, which waits until
the sockets are really closed.

One owner per address: bacpypes3 binds every UDP socket with SO_REUSEPORT,
so a second application on an address:port another process holds would
share it (and take part of its datagrams). Call :func:`claim_address`
before building an application (a held address is
:class:`~bms.errors.PortInUse`, naming the holder); :func:`await_bound`
then seals the unicast socket (SO_REUSEPORT off, see :mod:`bms.ports`).
The broadcast socket stays shared: each application of a subnet hears its
broadcasts.

:func:`exact_self_address` lets applications share the BACnet port on
loopback (bacpypes3 takes any 127.x on its port for itself).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bacpypes3.ipv4 import IPv4DatagramServer

from bms.errors import ProtocolError
from bms.ports import Endpoint, ensure_free, seal

VENDOR_ID = 999
"""Vendor identifier of bms's own BACnet devices (bacpypes3's sample vendor; not registered)."""


class _ExactSelfServer(IPv4DatagramServer):  # type: ignore[misc]
    """bacpypes3's datagram server, for which only its own (host, port) is itself.

    bacpypes3 0.0.110 short-circuits every unicast to any 127.x.x.x on its own
    port back up its own stack, so on loopback two applications on the BACnet
    port (a client on 127.0.0.1:47808, devices on 127.0.0.2:47808 and up) never
    hear each other. Anything but its own address goes on the wire.
    """

    async def indication(self, pdu: Any) -> None:
        target = getattr(pdu.pduDestination, "addrTuple", None)
        own = self.local_address
        if target is not None and own is not None and target != own and target[1] == own[1] \
                and target[0].startswith("127."):
            pending: list[Any] = getattr(self, "_transport_tasks", [])
            if pending:
                await asyncio.gather(*pending)
                pending.clear()
            await self._local_transport_ready.wait()
            self.local_transport.sendto(pdu.pduData, target)
            return
        await super().indication(pdu)


def exact_self_address(app: Any) -> None:
    """Make ``app`` (just built, sockets not yet bound) treat only its own address as itself (see _ExactSelfServer)."""
    for server in _servers(app):
        if type(server) is IPv4DatagramServer:
            server.__class__ = _ExactSelfServer


def _servers(app: Any) -> list[Any]:
    return [layer.server for layer in app.link_layers.values() if hasattr(layer, "server")]


def _bound(server: Any) -> bool:
    if server.local_transport is None:
        return False
    return server.broadcast_address is None or server.broadcast_transport is not None


def claim_address(host: str, port: int) -> None:
    """Raise :class:`~bms.errors.PortInUse` if another socket holds ``host:port`` (UDP); call before building."""
    ensure_free(Endpoint(host, port, "udp"))


async def await_bound(app: Any, timeout: float = 5.0, what: str = "BACnet application") -> None:
    """Wait until every socket of ``app`` is bound (ProtocolError after ``timeout``), then seal the unicast ones.

    A unicast address that another socket joined meanwhile is :class:`~bms.errors.PortInUse`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not all(_bound(server) for server in _servers(app)):
        if loop.time() > deadline:
            raise ProtocolError(f"{what}: could not bind its UDP sockets within {timeout:g} s")
        await asyncio.sleep(0.002)
    for server in _servers(app):
        broadcast = _socket(server.broadcast_transport)
        seal(_socket(server.local_transport), own=[broadcast] if broadcast is not None else [])


def _socket(transport: Any) -> Any:
    return transport.get_extra_info("socket") if transport is not None else None


def _open(transport: Any) -> bool:
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    return sock is not None and sock.fileno() != -1


async def close_application(app: Any, timeout: float = 2.0) -> None:
    """Close ``app``'s sockets (after unregistering from a BBMD) and wait until they are closed."""
    loop = asyncio.get_running_loop()
    for layer in app.link_layers.values():
        if getattr(layer, "bbmdRegistrationStatus", -2) != -2:
            layer.unregister()
            for _ in range(5):  # let the unregistration leave before the socket closes
                await asyncio.sleep(0)
    transports = [t for server in _servers(app) for t in (server.local_transport, server.broadcast_transport)]
    asap = getattr(app, "asap", None)
    for transaction in [*getattr(asap, "clientTransactions", ()), *getattr(asap, "serverTransactions", ())]:
        transaction.stop_timer()  # a retry due after the close would send on a closed socket
    app.close()
    deadline = loop.time() + timeout
    while any(_open(t) for t in transports) and loop.time() < deadline:
        await asyncio.sleep(0.001)
