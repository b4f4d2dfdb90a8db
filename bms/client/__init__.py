"""The client of the daemon's local API, used by the CLI and the shell.

``ApiClient.from_data_dir(dir)`` finds the daemon running on a data
directory (``daemon.json`` and ``api.token``); its methods return the
msgspec reply Structs and raise the BmsError matching the daemon's answer
(404 NotFound; 409 WriteRefused for a point command, else Conflict; 503
Unavailable; 502 DeviceRejected; 504 DeviceTimeout; 401 NotAuthenticated;
403 PermissionDenied; 429 LockedOut; other 5xx and an unreachable daemon
DaemonError; a reply that cannot be decoded CodecError).
"""

from bms.api import parse_duration, parse_time
from bms.client._client import ApiClient
from bms.client._errors import CommandRefused
from bms.client._stream import EventStream

__all__ = ["ApiClient", "CommandRefused", "EventStream", "parse_duration", "parse_time"]
