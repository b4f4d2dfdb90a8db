"""Hostile Modbus TCP servers on loopback for the bridge tests: real sockets, replies bent on purpose."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

Lie = Callable[[bytes], bytes]
"""A register reply's PDU data (byte count, registers) -> what the server sends instead."""


class LyingServer:
    """A Modbus TCP server on loopback that answers every register read with the registers asked, told by ``lie``."""

    def __init__(self, lie: Lie) -> None:
        self.lie = lie
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            while len(head := conn.recv(7)) == 7:
                tid, unit = head[:2], head[6]
                function, _address, count = struct.unpack(">BHH", conn.recv(int.from_bytes(head[4:6]) - 1))
                registers = struct.pack(f">{count}H", *range(count))
                pdu = bytes([function]) + self.lie(bytes([len(registers)]) + registers)
                conn.sendall(tid + b"\0\0" + (len(pdu) + 1).to_bytes(2) + bytes([unit]) + pdu)

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


def one_register_short(data: bytes) -> bytes:
    """A reply one register short of what was asked, its byte count consistent with what it carries."""
    return bytes([data[0] - 2]) + data[1:-2]
