"""Integrations' plain logic: payload formats, topic and measurement mapping, tags from the building
model, the store-and-forward outbox (no threads, no sockets).

MQTT (the ``mqtt`` component):

* :class:`MqttSection` (``[mqtt]``), :func:`broker_of`;
* :class:`Topics`: the topic layout ``{prefix}/{org}/{site}/{device}/...``,
  :func:`status_filter` for the fleet;
* :class:`SiteStatus`, :class:`Heartbeat`, :class:`CommandRequest`,
  :class:`CommandResponse`: the payloads beside the registry's own messages;
* :class:`ValueGate`: per-point rate limit and deadband;
* :func:`admit`: a command request checked against the allow-list and mapped
  to the bms user it runs as; :data:`PERMISSION` each command needs;
* :func:`discovery_configs`: Home Assistant MQTT discovery.

Exports (the ``influx``, ``postgres`` and ``webhooks`` components):

* :class:`TagMap`: series tags from the model; :class:`LineEncoder`: InfluxDB line protocol;
* :class:`Outbox`: a target's on-disk buffer and backfill cursor; :class:`HistoryPages`: history.db read
  for a backfill;
* :class:`TargetStatus` and :func:`state_of`: idle, live, catching up, backfilling, error;
* :class:`WebhookEvent`, the webhook payload, its HMAC-SHA256 :func:`signature` and :func:`verify`, its
  body by :func:`encode_event`.
"""

from __future__ import annotations

from bms.export._backfill import HistoryPages
from bms.export._deliveries import FAILED, PENDING, SENT, DeliveryLog
from bms.export._discovery import DiscoveryConfig, Equipment, component_of, discovery_configs
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
from bms.export._mqtt_commands import PERMISSION, BadCommand, Command, admit, correlation_of, decode_request
from bms.export._mqtt_payloads import (
    OFFLINE,
    ONLINE,
    CommandRequest,
    CommandResponse,
    Heartbeat,
    Problem,
    SiteStatus,
    decode_status,
    encode,
)
from bms.export._mqtt_rate import ValueGate
from bms.export._mqtt_settings import (
    COMMANDS,
    ENV_URL,
    Broker,
    MqttSection,
    QosLevels,
    TopicTemplates,
    broker_of,
    url_problem,
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
from bms.export._topics import Topics, split_point, status_filter
from bms.export._webhook import (
    DELIVERY,
    EVENT,
    SIGNATURE,
    TIMESTAMP,
    BadSignature,
    WebhookEvent,
    signature,
    signed_headers,
    verify,
)
from bms.export._webhook import encode as encode_event

__all__ = [
    "COMMANDS",
    "DELIVERY",
    "ENV_URL",
    "EVENT",
    "EVENT_KINDS",
    "EXPORT_MESSAGES",
    "FAILED",
    "OFFLINE",
    "ONLINE",
    "PENDING",
    "PERMISSION",
    "SENT",
    "SIGNATURE",
    "TIMESTAMP",
    "WEBHOOK_SOURCES",
    "BackfillJob",
    "BackfillProgress",
    "BackfillRequest",
    "Backoff",
    "BadCommand",
    "BadSignature",
    "Broker",
    "Command",
    "CommandRequest",
    "CommandResponse",
    "DeliveryLog",
    "DiscoveryConfig",
    "Equipment",
    "ExportRow",
    "GetTargetStatus",
    "Heartbeat",
    "HistoryPages",
    "InfluxSection",
    "InfluxTarget",
    "LineEncoder",
    "ListTargets",
    "ListWebhookDeliveries",
    "MqttSection",
    "Outbox",
    "OutboxBatch",
    "PostgresSection",
    "PostgresTarget",
    "Problem",
    "QosLevels",
    "SeriesTags",
    "SiteStatus",
    "StartBackfill",
    "TagMap",
    "TargetState",
    "TargetStatus",
    "Throughput",
    "TopicTemplates",
    "Topics",
    "ValueGate",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhooksSection",
    "admit",
    "broker_of",
    "component_of",
    "correlation_of",
    "decode_request",
    "decode_rows",
    "decode_status",
    "discovery_configs",
    "encode",
    "encode_event",
    "encode_rows",
    "escape_key",
    "kind_of",
    "line",
    "plain_tags",
    "series_key",
    "series_tags",
    "signature",
    "signed_headers",
    "split_point",
    "state_of",
    "status_filter",
    "url_problem",
    "verify",
    "wants",
    "webhook_event",
]
