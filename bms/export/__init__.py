"""Exports: payload formats, tags from the building model, line protocol, the store-and-forward outbox.

Pure pieces the export components (``influx``, ``postgres``, ``webhooks``)
run: :class:`TagMap` (series tags from the model), :class:`LineEncoder`
(InfluxDB line protocol), :class:`Outbox` (a target's on-disk buffer and
backfill cursor), :class:`HistoryPages` (history.db read for a backfill),
:class:`TargetStatus` and :func:`state_of` (idle, live, catching up,
backfilling, error), the webhook payload :class:`WebhookEvent` with its
HMAC-SHA256 :func:`signature` and :func:`verify`.
"""

from bms.export._backfill import HistoryPages
from bms.export._deliveries import FAILED, PENDING, SENT, DeliveryLog
from bms.export._events import WEBHOOK_SOURCES, kind_of, webhook_event
from bms.export._lines import LineEncoder, escape_key, line, series_key
from bms.export._messages import (
    EXPORT_MESSAGES,
    BackfillRequest,
    GetTargetStatus,
    ListTargets,
    ListWebhookDeliveries,
    StartBackfill,
    WebhookDelivery,
)
from bms.export._outbox import BackfillJob, Outbox, OutboxBatch, decode_rows, encode_rows
from bms.export._rows import ExportRow
from bms.export._settings import (
    EVENT_KINDS,
    Backoff,
    InfluxSection,
    InfluxTarget,
    PostgresSection,
    PostgresTarget,
    WebhookEndpoint,
    WebhooksSection,
    wants,
)
from bms.export._status import BackfillProgress, TargetState, TargetStatus, Throughput, state_of
from bms.export._tags import SeriesTags, TagMap, plain_tags, series_tags
from bms.export._webhook import (
    DELIVERY,
    EVENT,
    SIGNATURE,
    TIMESTAMP,
    BadSignature,
    WebhookEvent,
    encode,
    signature,
    signed_headers,
    verify,
)

__all__ = [
    "DELIVERY",
    "EVENT",
    "EVENT_KINDS",
    "EXPORT_MESSAGES",
    "FAILED",
    "PENDING",
    "SENT",
    "SIGNATURE",
    "TIMESTAMP",
    "WEBHOOK_SOURCES",
    "BackfillJob",
    "BackfillProgress",
    "BackfillRequest",
    "Backoff",
    "BadSignature",
    "DeliveryLog",
    "ExportRow",
    "GetTargetStatus",
    "HistoryPages",
    "InfluxSection",
    "InfluxTarget",
    "LineEncoder",
    "ListTargets",
    "ListWebhookDeliveries",
    "Outbox", "OutboxBatch",
    "PostgresSection",
    "PostgresTarget",
    "SeriesTags",
    "StartBackfill",
    "TagMap",
    "TargetState",
    "TargetStatus",
    "Throughput",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhooksSection",
    "decode_rows",
    "encode",
    "encode_rows",
    "escape_key",
    "kind_of",
    "line",
    "plain_tags",
    "series_key",
    "series_tags",
    "signature",
    "signed_headers",
    "state_of",
    "verify",
    "wants",
    "webhook_event",
]
