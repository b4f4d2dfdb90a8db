"""A BACnet device's own event as an alarm of the book, and its acknowledgement back to the device."""

from __future__ import annotations

import msgspec
import pytest

from bms.alarms import (
    NORMAL,
    RTN_UNACK,
    UNACK,
    AlarmBook,
    AlarmCleared,
    AlarmRaised,
    External,
    acknowledgement,
    device_alarm,
    severity_of,
)
from bms.clock import ManualClock
from bms.messages import AcknowledgeDeviceAlarm, DeviceEvent

HIGH = DeviceEvent(device_id="ahu1", object_id="analog-input,2", point_id="ahu1/sat", event_type="out-of-range",
                   from_state="normal", to_state="high-limit", event_state="high-limit", priority=100,
                   notification_class=1, message="Supply air temperature 31.5 above its high limit 28",
                   ack_required=True, device_time="2026-12-03T13:50:01.25", ts=10.0, source="confirmed")


def ev(**changes: object) -> DeviceEvent:
    return msgspec.structs.replace(HIGH, **changes)


@pytest.mark.parametrize(("event", "expected"), [
    (HIGH, ("device:ahu1:analog-input,2", External("ahu1/sat", "high", HIGH.message), True)),
    (ev(from_state="high-limit", to_state="normal", event_state="normal", priority=200, message=""),
     ("device:ahu1:analog-input,2", External("ahu1/sat", "low", "analog-input,2 of ahu1: normal"), False)),
    (ev(to_state="fault", event_state="fault", priority=10, message=""),
     ("device:ahu1:analog-input,2", External("ahu1/sat", "critical", "analog-input,2 of ahu1: fault"), True)),
    (ev(point_id="", object_id="analog-input,9", priority=150),  # an object no point is bound to
     ("device:ahu1:analog-input,9", External("ahu1", "medium", HIGH.message), True)),
    (ev(source="event-information", from_state="", to_state="", event_state="low-limit", acked=True),
     ("device:ahu1:analog-input,2", External("ahu1/sat", "high", HIGH.message), True)),
    (ev(notify_type="ack-notification"), None),
])
def test_device_events_as_alarms(event: DeviceEvent, expected: object) -> None:
    assert device_alarm(event) == expected


@pytest.mark.parametrize(("priority", "severity"), [
    (0, "critical"), (63, "critical"), (64, "high"), (127, "high"), (128, "medium"), (191, "medium"),
    (192, "low"), (255, "low"), (300, "low"),
])
def test_severity_by_bacnet_priority_quarters(priority: int, severity: str) -> None:
    assert severity_of(priority) == severity


def test_the_book_shows_a_device_alarm_through_its_lifecycle_and_acks_it_back() -> None:
    clock = ManualClock(100.0)
    book = AlarmBook(clock)
    found = device_alarm(HIGH)
    assert found is not None
    (raised,) = book.external(*found)
    assert isinstance(raised, AlarmRaised) and (raised.alarm_id, raised.source, raised.severity) == (
        "device:ahu1:analog-input,2", "device", "high")
    assert book.alarms["device:ahu1:analog-input,2"].state == UNACK
    normal = device_alarm(ev(from_state="high-limit", to_state="normal", event_state="normal", priority=200,
                             device_time="2026-12-03T13:55:00.00"))
    assert normal is not None
    (cleared,) = book.external(*normal)
    assert isinstance(cleared, AlarmCleared) and book.alarms["device:ahu1:analog-input,2"].state == RTN_UNACK
    book.acknowledge(["device:ahu1:analog-input,2"], "ops")
    assert book.alarms["device:ahu1:analog-input,2"].state == NORMAL
    assert acknowledgement(HIGH, "ops", "a1") == AcknowledgeDeviceAlarm(
        device_id="ahu1", object_id="analog-input,2", point_id="ahu1/sat", to_state="high-limit",
        device_time="2026-12-03T13:50:01.25", user="ops", request_id="a1")
    summary = ev(source="event-information", from_state="", to_state="", event_state="high-limit")
    assert acknowledgement(summary, "ops").to_state == "high-limit"
