"""The one exception tree of bms.

::

    BmsError                     anything bms reports to a user as one line
     +-- ConfigError             a configuration file or argument is wrong
     +-- StoreError              a database cannot be opened, migrated, read or written
     |    +-- SchemaTooNew       the file was written by a newer bms
     +-- ProtocolError           a device, a peer or a protocol stack misbehaved
     |    +-- DeviceTimeout      no answer within the timeout
     |    +-- DeviceRejected     the device answered with an error/exception
     |    +-- CodecError         a payload cannot be decoded or encoded
     +-- WriteRefused            a command was refused (guard, range, priority)
     +-- Conflict                the request contradicts the current state
     +-- NotFound                an unknown point, node, device or component
     +-- Unavailable             a service or store cannot answer now
     |    +-- ServiceUnavailable the component that would answer is not running
     +-- LogicError              user logic failed to compile or run
     +-- DaemonError             the daemon cannot start or be reached
     +-- BindError               an address:port of ours cannot be bound
          +-- PortInUse          another socket (another process) holds it
     +-- NotAuthenticated        no valid credentials: a missing, expired or revoked token, a wrong password
     |    +-- LockedOut          too many failed logins: wait before trying again
     +-- PermissionDenied        the caller's role does not allow the action (permission, priority, scope)

Where each stands:

* ``CodecError`` sits under ``ProtocolError``: a payload that cannot be
  decoded (a device's reply too short or of the wrong kind, a property value
  bacpypes3 could not decode, a message read off the wire) is the peer's or
  the protocol's failure, not the caller's mistake, and the API answers it
  as it answers any protocol failure (502). Two look-alikes are not
  CodecErrors: a value a caller asks to write that a binding cannot hold is
  the caller's mistake (``WriteRefused``, or the Modbus codec's
  ``EncodeError``, a ValueError the bridge turns into a failed WriteResult),
  and a stored payload that cannot be decoded is the store's problem
  (``StoreError``).
* ``Conflict`` is a request that is well formed but contradicts what is
  there: accepting a device that is already part of the site, an
  equipment id that is taken, deleting a node that still holds others.
  Sending it again changes nothing; changing the state first does.
* ``PortInUse`` names the address, its transport and the holder when it
  can be found (``127.0.0.2:47808/udp is in use by bms daemon pid 1234
  (data /srv/bms)``, see :mod:`bms.ports`): one host, one owner of each port.
* ``Unavailable`` is transient: retrying later may succeed. A ``StoreError``
  is not (a file that cannot be written is a failure of the actor that owns
  it: the actor layer restarts it), though the API answers both with 503.

Through the API (``bms.api._errors.status_of``): NotFound 404, WriteRefused
and Conflict 409, Unavailable and StoreError 503, DeviceTimeout 504, other
ProtocolError 502, NotAuthenticated 401, LockedOut 429, PermissionDenied 403,
any other BmsError 400.

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
    """A device, a peer or a protocol stack failed."""


class DeviceTimeout(ProtocolError):
    """The device did not answer in time."""


class DeviceRejected(ProtocolError):
    """The device answered with an error, reject, abort or exception code."""


class CodecError(ProtocolError):
    """A payload (a device's reply, a message off the wire) cannot be decoded or encoded."""


class WriteRefused(BmsError):
    """A write was refused (write guard, range, not writable)."""

    def __init__(self, point_id: str, reason: str, guard: str = "") -> None:
        super().__init__(f"write to {point_id} refused: {reason}")
        self.point_id = point_id
        self.reason = reason
        self.guard = guard


class Conflict(BmsError):
    """The request contradicts the current state (already accepted, an id that is taken...)."""


class NotFound(BmsError):
    """An unknown point, node, device or component."""


class Unavailable(BmsError):
    """A service or store cannot answer now; asking again later may succeed."""


class ServiceUnavailable(Unavailable):
    """The component that would answer is not running (or did not answer in time)."""

    def __init__(self, component: str, reason: str = "is not running") -> None:
        super().__init__(f"the {component} service {reason}")
        self.component = component


class LogicError(BmsError):
    """User logic failed to compile or run."""


class DaemonError(BmsError):
    """The daemon cannot start, or cannot be reached."""


class BindError(BmsError):
    """An address:port we must serve on cannot be bound (not on this host, not permitted...)."""


class PortInUse(BindError):
    """Another socket holds the address:port; ``holder`` says who when it can be found."""

    def __init__(self, endpoint: str, holder: str | None = None) -> None:
        super().__init__(f"{endpoint} is in use by {holder or 'another process'}")
        self.endpoint = endpoint
        self.holder = holder


class NotAuthenticated(BmsError):
    """No valid credentials: a missing, unknown, expired or revoked token, a wrong user or password."""


class LockedOut(NotAuthenticated):
    """Too many failed logins for this user or address: refused until the lock-out ends."""


class PermissionDenied(BmsError):
    """The caller is known but its role does not allow the action (permission, priority ceiling, scope)."""
