"""The one exception tree of bms.

::

    BmsError                     anything bms reports to a user as one line
     +-- ConfigError             a configuration file or argument is wrong
     +-- StoreError              a database cannot be opened, migrated or read
     |    +-- SchemaTooNew       the file was written by a newer bms
     +-- ProtocolError           a device or protocol stack misbehaved
     |    +-- DeviceTimeout      no answer within the timeout
     |    +-- DeviceRejected     the device answered with an error/exception
     +-- WriteRefused            a command was refused (guard, range, priority)
     +-- NotFound                an unknown point, node, device or component
     +-- LogicError              user logic failed to compile or run
     +-- DaemonError             the daemon cannot start or be reached

Library exceptions are translated at the boundary (``raise ... from err``);
the CLI prints ``str(err)`` of a BmsError in red and exits 1.
"""

from __future__ import annotations


class BmsError(Exception):
    """Base of every error bms reports to a person."""


class ConfigError(BmsError):
    """Configuration is invalid. ``problems`` holds every ``file: key: message``."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [message])


class StoreError(BmsError):
    """A store could not open, migrate, read or write its database."""


class SchemaTooNew(StoreError):
    """The database was written by a newer bms than this one."""


class ProtocolError(BmsError):
    """A device or protocol stack failed."""


class DeviceTimeout(ProtocolError):
    """The device did not answer in time."""


class DeviceRejected(ProtocolError):
    """The device answered with an error, reject, abort or exception code."""


class WriteRefused(BmsError):
    """A write was refused (write guard, range, not writable)."""

    def __init__(self, point_id: str, reason: str, guard: str = "") -> None:
        super().__init__(f"write to {point_id} refused: {reason}")
        self.point_id = point_id
        self.reason = reason
        self.guard = guard


class NotFound(BmsError):
    """An unknown point, node, device or component."""


class LogicError(BmsError):
    """User logic failed to compile or run."""


class DaemonError(BmsError):
    """The daemon cannot start, or cannot be reached."""


class CodecError(ProtocolError):
    """Bytes that cannot be decoded (or a value that cannot be encoded) as the wire format says."""
