"""Exclusive binds: a probe before binding, a seal after (see :mod:`bms.ports`)."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

from bms.errors import BindError, PortInUse
from bms.ports._holder import holders_of

Transport = Literal["udp", "tcp"]


class Endpoint(NamedTuple):
    """An address and port we bind, and on which transport: ``127.0.0.2:47808/udp``."""

    host: str
    port: int
    transport: Transport = "udp"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}/{self.transport}"


def ensure_free(endpoint: Endpoint) -> None:
    """Raise :class:`PortInUse` (naming the holder) if any socket holds ``endpoint``; port 0 is always free.

    The probe asks for no sharing: a UDP port held with or without SO_REUSEPORT refuses it, and so
    does the same port held on the wildcard address. A TCP probe sets SO_REUSEADDR, as every listener
    does, so connections of a past run in TIME_WAIT do not count; a listener still refuses it.
    Other failures (an address not on this host, a port not permitted) are a :class:`BindError`.
    """
    if endpoint.port == 0:
        return
    family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
    kind = socket.SOCK_DGRAM if endpoint.transport == "udp" else socket.SOCK_STREAM
    try:
        probe = socket.socket(family, kind)
    except OSError as err:
        raise BindError(f"cannot bind {endpoint}: {err.strerror or err}") from err
    with probe:
        if endpoint.transport == "tcp":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((endpoint.host, endpoint.port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PortInUse(str(endpoint), _first(holders_of(endpoint))) from None
            raise BindError(f"cannot bind {endpoint}: {(err.strerror or str(err)).lower()}") from None


def ensure_all_free(endpoints: Iterable[Endpoint]) -> None:
    """:func:`ensure_free` for each endpoint in turn (the first taken one is raised)."""
    for endpoint in dict.fromkeys(endpoints):
        ensure_free(endpoint)


def sharing(sock: Any, own: Iterable[Any] = ()) -> list[str]:
    """Who else is bound to the local address of the UDP socket ``sock`` (empty: nobody, or unknown).

    ``own``: other sockets of the same application that may match (its broadcast socket) and do not count.
    """
    host, port = sock.getsockname()[:2]
    mine = {os.fstat(s.fileno()).st_ino for s in (sock, *own)}
    return holders_of(Endpoint(host, port, "udp"), exclude=mine)


def seal(sock: Any, own: Iterable[Any] = ()) -> None:
    """Make the bound UDP socket ``sock`` its address's only one, or raise :class:`PortInUse`.

    SO_REUSEPORT off: the kernel then lets no later socket join the address. A socket that joined
    before (between :func:`ensure_free` and the bind) is refused here, naming its holder.
    """
    reuse_port = getattr(socket, "SO_REUSEPORT", None)
    if reuse_port is not None:
        sock.setsockopt(socket.SOL_SOCKET, reuse_port, 0)
    others = sharing(sock, own)
    if others:
        host, port = sock.getsockname()[:2]
        raise PortInUse(str(Endpoint(host, port, "udp")), others[0])


def _first(holders: list[str]) -> str | None:
    return holders[0] if holders else None
