"""Alarm notifications as plain logic: recipients, routing, escalation, flood digests, retries, the log.

* :class:`NotifySection` -- ``[notify]`` in bms.toml: :class:`Recipient`
  (a name and one apprise URL), :class:`RoutingRule` (severity, class,
  tags, equipment subtree, time windows) with its escalation steps,
  :class:`TimeWindow`, :class:`RetryPolicy`, the flood digest interval;
* :class:`AlarmFacts` and :class:`Routing` -- which rules an alarm matches
  at a time in the site's timezone (:func:`window_open`, :func:`rule_matches`);
* :class:`Dispatcher` -- what to send now: a :class:`Notice` per recipient
  at a raise, escalation levels 2 and 3 while nobody acknowledges, one
  digest per recipient during a flood;
* :class:`Deliveries` -- each notice's attempts and retries with backoff,
  and the recipients that keep failing;
* :class:`NotificationLog` -- notifications.db (:class:`NotificationRecord`);
* the notifier's messages (:class:`ListNotifications`, :class:`SendTestNotification`).

No threads: the ``notify`` component (``actors/components/notify``) owns a
Dispatcher, the Deliveries and the log, and sends through apprise off its
thread.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bms.notify._delivery import DELIVERY_STATES, FAILED, RETRYING, SENDING, SENT, Deliveries, Delivery
from bms.notify._dispatch import Dispatcher, Notice
from bms.notify._messages import (
    NOTIFY_MESSAGES,
    DeliveryEnded,
    ListNotifications,
    NotificationRecord,
    SendTestNotification,
)
from bms.notify._routing import SEVERITY_RANK, AlarmFacts, Routing, rule_matches, window_open
from bms.notify._settings import (
    EscalationStep,
    NotifySection,
    Recipient,
    RetryPolicy,
    RoutingRule,
    TimeWindow,
    default_windows,
)
from bms.notify._text import test_body, test_title

if TYPE_CHECKING:
    from bms.notify._log import NotificationLog


def __getattr__(name: str) -> Any:
    if name == "NotificationLog":  # the database (and SQLAlchemy) on first use: the CLI's descriptor stays light
        return importlib.import_module("bms.notify._log").NotificationLog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DELIVERY_STATES",
    "FAILED",
    "NOTIFY_MESSAGES",
    "RETRYING",
    "SENDING",
    "SENT",
    "SEVERITY_RANK",
    "AlarmFacts",
    "Deliveries",
    "Delivery",
    "DeliveryEnded",
    "Dispatcher",
    "EscalationStep",
    "ListNotifications",
    "Notice",
    "NotificationLog",
    "NotificationRecord",
    "NotifySection",
    "Recipient",
    "RetryPolicy",
    "Routing",
    "RoutingRule",
    "SendTestNotification",
    "TimeWindow",
    "default_windows",
    "rule_matches",
    "test_body",
    "test_title",
    "window_open",
]
