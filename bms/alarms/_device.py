"""Device alarms: a BACnet device's own event (:class:`~bms.messages.DeviceEvent`) as an alarm of the book.

The alarm engine wires them in two calls::

    found = device_alarm(event)                    # on DeviceEvent
    if found is not None:
        publish(*book.external(*found))
    publish(acknowledgement(last_event, user))     # when an operator acks a device alarm

* the alarm id is ``device:<device>:<object>`` (``device:ahu1:analog-input,2``):
  one per reporting object, never clashing with an alarm defined on its point;
* the severity comes from the BACnet priority (0 most urgent .. 255), in
  four quarters: 0-63 critical, 64-127 high, 128-191 medium, 192-255 low;
* the alarm is active while the event state is not normal (fault included);
* an ack-notification (another workstation acknowledged at the device) is
  not an alarm of its own: ``None``.
"""

from __future__ import annotations

from bms.alarms._book import External
from bms.messages import AcknowledgeDeviceAlarm, DeviceEvent

SEVERITY_BY_PRIORITY: tuple[tuple[int, str], ...] = ((63, "critical"), (127, "high"), (191, "medium"), (255, "low"))
"""The highest BACnet priority of each severity."""


def device_alarm_id(event: DeviceEvent) -> str:
    """The id of the alarm a device event shows as: ``device:ahu1:analog-input,2``."""
    return f"device:{event.device_id}:{event.object_id}"


def severity_of(priority: int) -> str:
    """The severity of a BACnet event priority (out-of-range priorities are clamped)."""
    for highest, severity in SEVERITY_BY_PRIORITY:
        if priority <= highest:
            return severity
    return "low"


def device_alarm(event: DeviceEvent) -> tuple[str, External, bool] | None:
    """(alarm id, how it is shown, active) of a device event; ``None`` for an ack-notification."""
    if event.notify_type == "ack-notification":
        return None
    state = event.to_state or event.event_state
    text = event.message or f"{event.object_id} of {event.device_id}: {state}"
    shown = External(point_id=event.point_id or event.device_id, severity=severity_of(event.priority), text=text)
    return device_alarm_id(event), shown, state != "normal"


def acknowledgement(event: DeviceEvent, user: str, request_id: str = "") -> AcknowledgeDeviceAlarm:
    """The AcknowledgeDeviceAlarm for the transition ``event`` reported (the bridge sends it to the device)."""
    return AcknowledgeDeviceAlarm(
        device_id=event.device_id, object_id=event.object_id, point_id=event.point_id,
        to_state=event.to_state or event.event_state, device_time=event.device_time, user=user,
        request_id=request_id,
    )
