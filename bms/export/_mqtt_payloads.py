"""What a site says on MQTT: its status, its heartbeat, and the commands it answers.

Point values travel as :class:`bms.messages.PointValue`, alarm and device
events as the registry's own messages (tagged with ``type``), written by the
same msgspec encoder as the API: one schema, no drift.
"""

from __future__ import annotations

import msgspec

from bms.logic.messages import BundleVersion
from bms.messages import PointState, Value, WriteAccepted

ONLINE, OFFLINE = "online", "offline"


class _Wire(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    pass


class Problem(_Wire, frozen=True):
    """A component that is not Healthy, and why."""

    component: str
    state: str
    reason: str = ""


class SiteStatus(_Wire, frozen=True):
    """``.../status/update`` (retained): who this instance is, whether it is up, its health and alarms.

    The last will is the same Struct with ``state`` offline, so the fleet sees
    a site that died as offline with the time it last connected.
    """

    org: str
    site: str
    device: str
    state: str  # online | offline
    ts: float
    health: str = "Unknown"  # the site's overall health (Healthy, Degraded, Down, Unknown)
    problems: tuple[Problem, ...] = ()
    active_alarms: int = 0
    unacked_alarms: int = 0
    devices_down: tuple[str, ...] = ()
    version: str = ""
    name: str = ""  # the site's display name
    started: float = 0.0


class Heartbeat(_Wire, frozen=True):
    ts: float
    uptime: float
    published: int = 0  # values published since start
    dropped: int = 0  # values not published (broker away, rate limit, deadband)


class CommandRequest(_Wire, frozen=True):
    """A request on ``.../command/{command}/request``.

    ``write``: point, value, priority, duration; ``release``: point, priority;
    ``read``: point or points (globs); ``ack``: alarm_ids; ``deploy``: bundle
    (base64); ``status`` and ``rollback``: nothing. ``user`` names the MQTT
    user the request runs as (mapped to a bms user by ``[mqtt] users``);
    ``token``, a bms API token, authenticates the request itself instead
    (it runs as the token's user).
    """

    correlation_id: str = ""
    user: str = ""
    token: str = ""
    point: str = ""
    points: tuple[str, ...] = ()
    value: Value = None
    priority: int = 8
    duration: float | None = None
    alarm_ids: tuple[str, ...] = ()
    bundle: bytes = b""
    wait: float | None = None  # seconds to wait for the device's answer (default: [mqtt] write_wait)


class CommandResponse(_Wire, frozen=True):
    """The answer on ``.../command/{command}/response``: the request's correlation id, ok or the error
    (one line), and what the command gives back (``accepted`` with the device's answer in ``accepted.device``)."""

    correlation_id: str
    command: str
    ok: bool
    ts: float
    user: str = ""
    error: str = ""
    accepted: WriteAccepted | None = None
    points: tuple[PointState, ...] | None = None
    status: SiteStatus | None = None
    bundle: BundleVersion | None = None
    acked: tuple[str, ...] | None = None


_encoder = msgspec.json.Encoder()


def encode(payload: object) -> bytes:
    return _encoder.encode(payload)


def decode_status(payload: bytes) -> SiteStatus:
    return msgspec.json.decode(payload, type=SiteStatus)
