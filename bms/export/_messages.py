"""Queries and commands of the export targets and the webhooks component."""

from __future__ import annotations

import msgspec

from bms.messages import Message


class ListTargets(Message, frozen=True, kw_only=True):
    """Every export target's :class:`~bms.export.TargetStatus` (asked of the ``export`` service)."""


class GetTargetStatus(Message, frozen=True, kw_only=True):
    """One target's status (asked of the target's own service, ``export:NAME``)."""


class StartBackfill(Message, frozen=True, kw_only=True):
    """Send recorded history in ``[since, until)`` to the target.

    A backfill that has not finished (running, or interrupted by a stop) goes on instead, on its own
    range, and the answer says so (``resumed``); ``restart`` ends it and starts this range."""

    since: float
    until: float
    restart: bool = False


class BackfillRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The body of ``POST /api/export/{target}/backfill``: times as epoch seconds, -30d or ISO 8601."""

    since: str = "-30d"
    until: str | None = None
    restart: bool = False  # end a backfill that has not finished (it would go on instead) and start this range


class ListWebhookDeliveries(Message, frozen=True, kw_only=True):
    since: float = 0.0
    endpoint: str | None = None
    limit: int = 1000


class WebhookDelivery(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One event to one endpoint, as the delivery log keeps it."""

    id: str
    endpoint: str
    kind: str
    created: float
    updated: float
    status: str  # pending, sent, failed
    attempts: int = 0
    error: str = ""
    http_status: int = 0
    next_attempt: float | None = None


EXPORT_MESSAGES: tuple[type[msgspec.Struct], ...] = (ListTargets, GetTargetStatus, StartBackfill,
                                                     ListWebhookDeliveries)
