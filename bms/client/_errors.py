"""HTTP errors of the API turned back into the BmsError they started as."""

from __future__ import annotations

import msgspec

from bms.api import ErrorBody
from bms.errors import (
    BmsError,
    Conflict,
    DaemonError,
    DeviceRejected,
    DeviceTimeout,
    LockedOut,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Unavailable,
    WriteRefused,
)


class CommandRefused(WriteRefused):
    """A write or relinquish the daemon refused (409); the message is the daemon's."""

    def __init__(self, message: str, point_id: str = "") -> None:
        BmsError.__init__(self, message)
        self.point_id = point_id
        self.reason = message
        self.guard = ""


def server_message(body: bytes, status: int) -> str:
    """The one-line ``error`` of an API reply (or a short description of a foreign one)."""
    try:
        return msgspec.json.decode(body, type=ErrorBody).error
    except msgspec.DecodeError:
        text = body.decode("utf-8", "replace").strip().splitlines()
        return f"HTTP {status}" + (f": {text[0][:200]}" if text else "")


def error_for(status: int, message: str, point_id: str = "") -> BmsError:
    """The BmsError matching an HTTP error status."""
    if status == 401:
        return NotAuthenticated(f"the daemon refused the credentials: {message}")
    if status == 403:
        return PermissionDenied(message)
    if status == 429:
        return LockedOut(message)
    if status == 404:
        return NotFound(message)
    if status == 409:
        return CommandRefused(message, point_id) if point_id else Conflict(message)
    if status == 504:
        return DeviceTimeout(message)
    if status == 502:
        return DeviceRejected(message)
    if status == 503:
        return Unavailable(message)
    if status >= 500:
        return DaemonError(message)
    return BmsError(message)  # any other refusal of our request (400): the daemon's line says what
