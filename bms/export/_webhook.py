"""Webhook payloads and their signature: generic JSON, HMAC-SHA256 over the timestamp and the body.

Every delivery is a POST of JSON with these headers::

    Content-Type: application/json
    X-Bms-Event: alarm.raised
    X-Bms-Delivery: 5f0c...        (unique per event; the same on every retry)
    X-Bms-Timestamp: 1700000000    (epoch seconds when this attempt was signed)
    X-Bms-Signature: sha256=<hex>  (only when the endpoint has a secret)

The signature is ``HMAC-SHA256(secret, f"{timestamp}.{body}")`` in hex. A
receiver verifies it (:func:`verify` does exactly this):

1. read the raw body bytes (before any JSON parsing) and the two headers;
2. recompute the HMAC over ``timestamp + "." + body`` with the shared secret
   and compare it with ``hmac.compare_digest``;
3. refuse a timestamp more than 5 minutes from its own clock (a captured
   request cannot be replayed later), and remember delivery ids it has
   seen for that long (a retry of a delivery it already took is a duplicate).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import msgspec

from bms.errors import BmsError

SIGNATURE = "X-Bms-Signature"
TIMESTAMP = "X-Bms-Timestamp"
EVENT = "X-Bms-Event"
DELIVERY = "X-Bms-Delivery"
TOLERANCE = 300.0


class WebhookEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The body of a delivery: what happened (``kind``), when, at which site, and the event's own fields.

    ``title`` and ``message`` are the human line (a receiver that only
    shows text, or apprise's json:// format, needs nothing else); ``data``
    is the bms message itself as the API sends it.
    """

    id: str
    kind: str
    ts: float
    site: str = ""
    title: str = ""
    message: str = ""
    severity: str = ""
    data: dict[str, Any] = {}


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of ``timestamp.body`` under ``secret``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, kind: str, delivery_id: str, body: bytes, now: float) -> dict[str, str]:
    """The headers of one attempt, signed at ``now`` when there is a secret."""
    ts = int(now)
    headers = {"Content-Type": "application/json", EVENT: kind, DELIVERY: delivery_id, TIMESTAMP: str(ts),
               "User-Agent": "bms-webhooks"}
    if secret:
        headers[SIGNATURE] = signature(secret, ts, body)
    return headers


class BadSignature(BmsError):
    """A webhook request whose signature or timestamp does not hold."""


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance: float = TOLERANCE) -> None:
    """Check a received request (header names case-insensitive); raises :class:`BadSignature` naming why."""
    lower = {k.lower(): v for k, v in headers.items()}
    given = lower.get(SIGNATURE.lower(), "")
    stamp = lower.get(TIMESTAMP.lower(), "")
    if not given or not stamp:
        raise BadSignature("no signature or timestamp header")
    try:
        ts = int(stamp)
    except ValueError:
        raise BadSignature(f"timestamp {stamp!r} is not epoch seconds") from None
    if abs(now - ts) > tolerance:
        raise BadSignature(f"timestamp {ts} is {abs(now - ts):.0f} s from now (more than {tolerance:.0f} s)")
    if not hmac.compare_digest(signature(secret, ts, body), given):
        raise BadSignature("the signature does not match the body")


def encode(event: WebhookEvent) -> bytes:
    return msgspec.json.encode(event)
