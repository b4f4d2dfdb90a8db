"""Command requests: decoding, the allow-list, who runs them and what each needs (plain logic).

A request becomes a :class:`Command` or is refused with one line
(:class:`BadCommand` for a payload that is not a request,
:class:`~bms.errors.PermissionDenied` for the allow-list and the user's
permissions). The component then carries it out against the site's services
as that user, through the same priority arrays and checks as the API.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec

from bms.errors import BmsError, PermissionDenied
from bms.export._mqtt_payloads import CommandRequest
from bms.export._mqtt_settings import COMMANDS

PERMISSION: dict[str, str] = {
    "write": "write-points", "release": "write-points", "read": "read", "status": "read", "ack": "alarms",
    "deploy": "logic", "rollback": "logic",
}
"""The permission (``bms.auth``) each command needs of the user it runs as."""

_decoder = msgspec.json.Decoder(CommandRequest)


class BadCommand(BmsError):
    """A payload that is not a request of its command: bad JSON, a wrong field, a missing one."""


@dataclass(frozen=True)
class Command:
    name: str
    request: CommandRequest
    user: str  # the bms user it runs as ("" until its token is authenticated)


def correlation_of(payload: bytes) -> str:
    """The correlation id of a payload that may not be a valid request (for its error response)."""
    try:
        raw = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return ""
    cid = raw.get("correlation_id") if isinstance(raw, dict) else None
    return cid if isinstance(cid, str) else ""


def decode_request(payload: bytes) -> CommandRequest:
    try:
        return _decoder.decode(payload)
    except msgspec.ValidationError as err:
        raise BadCommand(f"bad request: {err}") from None
    except msgspec.DecodeError as err:
        raise BadCommand(f"bad request: not JSON ({err})") from None


def check_request(name: str, req: CommandRequest) -> None:
    """What each command needs in its request, one line when it is missing."""
    if name in ("write", "release") and not req.point:
        raise BadCommand(f"bad request: {name} needs a point")
    if name in ("write", "release") and not 1 <= req.priority <= 16:
        raise BadCommand(f"bad request: priority must be 1..16, got {req.priority}")
    if name == "write" and req.duration is not None and req.duration <= 0:
        raise BadCommand(f"bad request: duration must be > 0 seconds, got {req.duration:g}")
    if name == "read" and not (req.point or req.points):
        raise BadCommand("bad request: read needs a point or points")
    if name == "ack" and not req.alarm_ids:
        raise BadCommand("bad request: ack needs alarm_ids")
    if name == "deploy" and not req.bundle:
        raise BadCommand("bad request: deploy needs a bundle (base64)")


def admit(name: str, payload: bytes, allowed: Sequence[str], point_globs: Sequence[str],
          users: Mapping[str, str], default_user: str) -> Command:
    """The command a request asks for, checked against the allow-list; refused with one line."""
    if name not in COMMANDS:
        raise BadCommand(f"unknown command {name!r} (known: {', '.join(COMMANDS)})")
    req = decode_request(payload)
    if name not in allowed:
        raise PermissionDenied(f"command {name!r} is not allowed on this site ([mqtt] commands: "
                               f"{', '.join(allowed) or 'none'})")
    check_request(name, req)
    if name in ("write", "release") and not any(fnmatch.fnmatchcase(req.point, g) for g in point_globs):
        raise PermissionDenied(f"point {req.point!r} is not in the allow-list ([mqtt] command_points)")
    if req.token:
        return Command(name=name, request=req, user="")  # the token says who: the auth service is asked
    if req.user:
        user = users.get(req.user)
        if user is None:
            raise PermissionDenied(f"MQTT user {req.user!r} maps to no bms user ([mqtt] users)")
    elif default_user:
        user = default_user
    else:
        raise PermissionDenied("the request names no user and [mqtt] default_user is not set")
    return Command(name=name, request=req, user=user)
