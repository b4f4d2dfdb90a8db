"""Alarms: definitions, conditions, the ISA-18.2 lifecycle, chattering and floods, as plain logic.

* :class:`AlarmDefinition` / :class:`AlarmSpec` -- an alarm of the site / of
  a device profile's point: a condition (:data:`Condition`: high and low
  limits, deviation, state, change of state, command mismatch, stale value,
  device down), severity, class, on- and off-delays, suppression, message;
* :func:`in_alarm` -- a condition's state now, over a :class:`PointView`;
* :class:`Alarm` -- one alarm's lifecycle record (states in :data:`STATES`);
* :class:`AlarmBook` -- every alarm of a site: inputs in, messages out;
* the engine's messages (:class:`AlarmRaised` ... :class:`AlarmView`);
* :func:`device_alarm` / :func:`acknowledgement` -- a BACnet device's own
  event (``DeviceEvent``) as an alarm of the book, and its ack back to the device.

No threads: the alarm engine component (``actors/components/alarms``) owns
an AlarmBook, its store and its subscriptions.
"""

from bms.alarms._book import AlarmBook, AlarmClass, ChatterRule, External, FloodRule, PointMeta
from bms.alarms._conditions import PointView, in_alarm, same
from bms.alarms._device import acknowledgement, device_alarm, device_alarm_id, severity_of
from bms.alarms._lifecycle import (
    ACKED,
    NORMAL,
    OUT_OF_SERVICE,
    RTN_UNACK,
    SHELVED,
    STATES,
    SUPPRESSED,
    UNACK,
    Alarm,
    AlarmRefused,
)
from bms.alarms._messages import (
    ALARM_EVENTS,
    ALARM_MESSAGES,
    AckAlarms,
    AlarmAcknowledged,
    AlarmCleared,
    AlarmEvent,
    AlarmHistory,
    AlarmRaised,
    AlarmShelved,
    AlarmUnshelved,
    AlarmView,
    DefineAlarm,
    ExternalAlarm,
    GetAlarm,
    ListAlarms,
    RemoveAlarm,
    ShelveAlarm,
    UnshelveAlarm,
    decode_event,
)
from bms.alarms._spec import (
    SEVERITIES,
    AlarmDefinition,
    AlarmSpec,
    ChangeOfState,
    CommandMismatch,
    Condition,
    Deviation,
    DeviceDownAlarm,
    HighLimit,
    LowLimit,
    Severity,
    StaleValue,
    StateAlarm,
    Suppression,
    check_template,
    cond_type,
    describe,
    render,
)

__all__ = [
    "ACKED",
    "ALARM_EVENTS",
    "ALARM_MESSAGES",
    "NORMAL",
    "OUT_OF_SERVICE",
    "RTN_UNACK",
    "SEVERITIES",
    "SHELVED",
    "STATES",
    "SUPPRESSED",
    "UNACK",
    "AckAlarms",
    "Alarm",
    "AlarmAcknowledged",
    "AlarmBook",
    "AlarmClass",
    "AlarmCleared",
    "AlarmDefinition",
    "AlarmEvent",
    "AlarmHistory",
    "AlarmRaised",
    "AlarmRefused",
    "AlarmShelved",
    "AlarmSpec",
    "AlarmUnshelved",
    "AlarmView",
    "ChangeOfState",
    "ChatterRule",
    "CommandMismatch",
    "Condition",
    "DefineAlarm",
    "Deviation",
    "DeviceDownAlarm",
    "External",
    "ExternalAlarm",
    "FloodRule",
    "GetAlarm",
    "HighLimit",
    "ListAlarms",
    "LowLimit",
    "PointMeta",
    "PointView",
    "RemoveAlarm",
    "Severity",
    "ShelveAlarm",
    "StaleValue",
    "StateAlarm",
    "Suppression",
    "UnshelveAlarm",
    "acknowledgement",
    "check_template",
    "cond_type",
    "decode_event",
    "describe",
    "device_alarm",
    "device_alarm_id",
    "in_alarm",
    "render",
    "same",
    "severity_of",
]
