"""The BACnet client's sockets: bigger receive buffers for bursts."""

from __future__ import annotations

import socket
from typing import Any

from bms.bacnet import BacnetClient

RECEIVE_BUFFER = 4 * 1024 * 1024
"""Bytes of socket receive buffer asked for: bursts of COV notifications and I-Ams overflow the default."""


def enlarge_receive_buffers(client: BacnetClient, log: Any) -> None:
    """Best effort: a bigger SO_RCVBUF on the client's sockets (forced when the process may)."""
    for layer in client.application().link_layers.values():
        server = getattr(layer, "server", None)
        for transport in (getattr(server, "local_transport", None), getattr(server, "broadcast_transport", None)):
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is None:
                continue
            for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
                if option is None:
                    continue
                try:
                    sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
                    break
                except OSError:
                    continue
            log.debug("socket receive buffer", bytes=sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
