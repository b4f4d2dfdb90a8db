"""Which bms events a webhook carries, and their :class:`~bms.export._webhook.WebhookEvent` form."""

from __future__ import annotations

from typing import Any

import msgspec

from bms.alarms import AlarmAcknowledged, AlarmCleared, AlarmRaised
from bms.export._webhook import WebhookEvent
from bms.messages import DeviceDown, DeviceRecovered, FddFaultCleared, FddFaultRaised, HealthChanged

#: The messages a webhooks component subscribes to.
WEBHOOK_SOURCES: tuple[type[msgspec.Struct], ...] = (
    AlarmRaised, AlarmAcknowledged, AlarmCleared, DeviceDown, DeviceRecovered, FddFaultRaised, FddFaultCleared,
    HealthChanged,
)


def _describe(msg: Any) -> tuple[str, str, str]:
    """(kind, title, severity) of a message."""
    if isinstance(msg, AlarmRaised):
        return "alarm.raised", f"[{msg.severity.upper()}] {msg.text}", msg.severity
    if isinstance(msg, AlarmAcknowledged):
        return "alarm.acknowledged", f"Alarm {msg.alarm_id} acknowledged by {msg.user}", ""
    if isinstance(msg, AlarmCleared):
        return "alarm.cleared", f"Alarm {msg.alarm_id} returned to normal", ""
    if isinstance(msg, DeviceDown):
        why = f": {msg.reason}" if msg.reason else ""
        return "device.down", f"Device {msg.device_id} ({msg.protocol}) is down{why}", "high"
    if isinstance(msg, DeviceRecovered):
        return "device.up", f"Device {msg.device_id} ({msg.protocol}) is back after {msg.down_for:.0f} s", ""
    if isinstance(msg, FddFaultRaised):
        return "fdd.fault", f"Fault {msg.rule_id} on {msg.equip_id}: {msg.text}", "medium"
    if isinstance(msg, FddFaultCleared):
        return "fdd.cleared", f"Fault {msg.rule_id} on {msg.equip_id} cleared", ""
    if isinstance(msg, HealthChanged):
        why = f": {msg.reason}" if msg.reason else ""
        return "health.changed", f"Component {msg.component} is {msg.state}{why}", ""
    raise TypeError(f"not a webhook event: {type(msg).__name__}")


def webhook_event(msg: Any, event_id: str, site: str = "") -> WebhookEvent:
    """The webhook form of ``msg`` (one of :data:`WEBHOOK_SOURCES`)."""
    kind, title, severity = _describe(msg)
    data = msgspec.to_builtins(msg)
    data.pop("type", None)
    return WebhookEvent(id=event_id, kind=kind, ts=float(msg.ts), site=site, title=title, message=title,
                        severity=severity, data=data)


def kind_of(msg: Any) -> str:
    return _describe(msg)[0]
