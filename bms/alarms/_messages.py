"""The alarm engine's messages: its events, commands and queries, and the view of one alarm.

Events carry who and when. ``notify`` on :class:`AlarmRaised` is False when
the raise is recorded but not annunciated (the alarm is shelved, or it
chatters and was notified once already); ``flood`` is True while more
alarms are raised per window than the flood limit (notifications are
grouped into digests).
"""

from __future__ import annotations

from typing import Union

import msgspec

from bms.alarms._spec import AlarmDefinition, Value
from bms.messages import Message


class AlarmRaised(Message, frozen=True, kw_only=True):
    alarm_id: str
    point_id: str
    severity: str
    alarm_class: str = "default"
    text: str
    ts: float
    value: Value = None
    state: str = "unacknowledged"
    notify: bool = True
    flood: bool = False
    chattering: bool = False
    source: str = "bms"  # bms | device (a BACnet event notification)


class AlarmCleared(Message, frozen=True, kw_only=True):
    alarm_id: str
    point_id: str
    ts: float
    value: Value = None
    state: str = "normal"  # normal | returned-unacknowledged


class AlarmAcknowledged(Message, frozen=True, kw_only=True):
    alarm_id: str
    point_id: str
    user: str
    ts: float
    state: str = "acknowledged"  # acknowledged (still active) | normal (it had returned)


class AlarmShelved(Message, frozen=True, kw_only=True):
    alarm_id: str
    point_id: str
    user: str
    ts: float
    until: float
    reason: str


class AlarmUnshelved(Message, frozen=True, kw_only=True):
    alarm_id: str
    point_id: str
    user: str  # "" when the shelve expired by itself
    ts: float
    state: str = "normal"


# ------------------------------------------------------------------ commands


class AckAlarms(Message, frozen=True, kw_only=True):
    """Acknowledge the alarms named, or every unacknowledged one matching the filter (``all_matching``)."""

    alarm_ids: tuple[str, ...] = ()
    all_matching: bool = False
    under: str | None = None  # a node id: alarms of points under it
    severity: str | None = None
    user: str = ""


class ShelveAlarm(Message, frozen=True, kw_only=True):
    alarm_id: str
    until: float  # epoch seconds
    reason: str
    user: str = ""


class UnshelveAlarm(Message, frozen=True, kw_only=True):
    alarm_id: str
    user: str = ""


class DefineAlarm(Message, frozen=True, kw_only=True):
    """Add (or replace) an alarm definition at run time; kept in alarms.db."""

    definition: AlarmDefinition
    user: str = ""


class RemoveAlarm(Message, frozen=True, kw_only=True):
    alarm_id: str
    user: str = ""


class ExternalAlarm(Message, frozen=True, kw_only=True):
    """Raise (``active``) or clear an alarm another engine decides (the logic engine's AlarmTrigger).

    Published, not asked: the alarm engine runs it through the same lifecycle as its own alarms
    (ack, shelve, history); ``source`` names the engine ("logic:sat-reset").
    """

    alarm_id: str
    point_id: str
    active: bool
    severity: str = "medium"
    text: str = ""
    source: str = ""


# ------------------------------------------------------------------- queries


class ListAlarms(Message, frozen=True, kw_only=True):
    active: bool = False  # only alarms that are not normal
    severity: str | None = None
    under: str | None = None


class GetAlarm(Message, frozen=True, kw_only=True):
    alarm_id: str


class AlarmHistory(Message, frozen=True, kw_only=True):
    since: float
    until: float | None = None
    alarm_id: str | None = None
    limit: int = 1000


class AlarmView(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One alarm as operators see it."""

    alarm_id: str
    point_id: str
    severity: str
    alarm_class: str
    state: str  # normal | unacknowledged | acknowledged | returned-unacknowledged | shelved | suppressed | out-of-service
    active: bool
    acked: bool
    text: str = ""
    value: Value = None
    raised_at: float | None = None
    cleared_at: float | None = None
    acked_at: float | None = None
    acked_by: str = ""
    shelved_until: float | None = None
    shelved_by: str = ""
    shelve_reason: str = ""
    chattering: bool = False
    raised_count: int = 0
    source: str = "bms"


class AlarmEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One line of an alarm's history (alarms.db)."""

    ts: float
    alarm_id: str
    point_id: str
    event: str  # raised | cleared | acknowledged | shelved | unshelved | suppressed | unsuppressed
    state: str
    user: str = ""
    value: Value = None
    text: str = ""


ALARM_EVENTS = (AlarmRaised, AlarmCleared, AlarmAcknowledged, AlarmShelved, AlarmUnshelved)
ALARM_MESSAGES = (*ALARM_EVENTS, AckAlarms, ShelveAlarm, UnshelveAlarm, DefineAlarm, RemoveAlarm, ListAlarms,
                  GetAlarm, AlarmHistory, ExternalAlarm)


_event_decoder = msgspec.json.Decoder(Union[AlarmRaised, AlarmCleared, AlarmAcknowledged, AlarmShelved, AlarmUnshelved])


def decode_event(text: str | bytes) -> AlarmRaised | AlarmCleared | AlarmAcknowledged | AlarmShelved | AlarmUnshelved:
    """One alarm event of the live alarm stream (tagged JSON)."""
    return _event_decoder.decode(text)
