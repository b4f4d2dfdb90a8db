"""The notifier's messages: its queries and command, and one line of the notification log."""

from __future__ import annotations

from typing import Annotated

import msgspec

from bms.messages import Message


class NotificationRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One notification to one recipient, as notifications.db keeps it: updated at each attempt."""

    id: str
    created: float
    updated: float
    recipient: str
    channel: str  # the URL scheme (mailto, json, ntfy ...); never the URL, which may carry a password
    kind: str  # alarm | escalation | digest | test
    status: str  # sending | retrying | sent | failed
    attempts: int
    alarm_ids: tuple[str, ...] = ()
    level: int = 1
    severity: str = ""
    title: str = ""
    body: str = ""
    error: str = ""
    next_attempt: float | None = None


class ListNotifications(Message, frozen=True, kw_only=True):
    """The notifications created since ``since`` (epoch seconds), of one alarm when ``alarm_id`` is given."""

    since: float
    until: float | None = None
    alarm_id: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1000


class SendTestNotification(Message, frozen=True, kw_only=True):
    """Send a test message to ``recipient`` now (one attempt); answered with its record once it ends."""

    recipient: str


class DeliveryEnded(Message, frozen=True, kw_only=True):
    """From a courier thread to the notifier: an attempt ended (``error`` empty: sent)."""

    delivery_id: str
    error: str = ""


NOTIFY_MESSAGES = (ListNotifications, SendTestNotification)
