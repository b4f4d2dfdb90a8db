"""The ISA-18.2 / IEC 62682 alarm states and the transitions between them, on one mutable record per alarm.

==========================  =====================================================
state                       meaning
==========================  =====================================================
``normal``                  the condition is gone and nothing waits for an ack
``unacknowledged``          active, not acknowledged (annunciated)
``acknowledged``            active, acknowledged
``returned-unacknowledged`` gone, but the operator has not acknowledged it yet
``shelved``                 set aside by an operator until a time: not annunciated
``suppressed``              suppressed by design (its equipment is off)
``out-of-service``          its definition is disabled
==========================  =====================================================

An alarm class without acknowledgement (``ack_required = false``) goes
back to ``normal`` when its condition goes, with no ack. Every transition
returns the name of the event it makes (or None) for the engine to publish.
"""

from __future__ import annotations

from dataclasses import dataclass

from bms.alarms._spec import Value
from bms.errors import BmsError

NORMAL = "normal"
UNACK = "unacknowledged"
ACKED = "acknowledged"
RTN_UNACK = "returned-unacknowledged"
SHELVED = "shelved"
SUPPRESSED = "suppressed"
OUT_OF_SERVICE = "out-of-service"
STATES = (NORMAL, UNACK, ACKED, RTN_UNACK, SHELVED, SUPPRESSED, OUT_OF_SERVICE)
ANNUNCIATED = frozenset((UNACK, ACKED, RTN_UNACK))


class AlarmRefused(BmsError):
    """An operator action that does not apply to the alarm as it is (ack of a normal alarm...)."""


@dataclass(slots=True)
class Alarm:
    """One alarm's state: its lifecycle and what the detector is waiting for."""

    alarm_id: str
    point_id: str
    state: str = NORMAL
    active: bool = False  # the condition (after its delays)
    acked: bool = True
    text: str = ""
    value: Value = None
    raised_at: float | None = None
    cleared_at: float | None = None
    acked_at: float | None = None
    acked_by: str = ""
    shelved_until: float | None = None
    shelved_by: str = ""
    shelve_reason: str = ""
    raised_count: int = 0
    chattering: bool = False
    pending_since: float | None = None  # the raw condition differs from ``active`` since (a delay runs)
    settle_until: float | None = None  # suppression's settling time after the equipment started

    # --------------------------------------------------------- the condition
    def activate(self, now: float, value: Value, text: str) -> str | None:
        """The condition came (after its on-delay)."""
        self.active = True
        self.value, self.text = value, text
        self.raised_at, self.cleared_at = now, None
        self.raised_count += 1
        if self.state in (SHELVED, SUPPRESSED, OUT_OF_SERVICE):
            return "raised"  # recorded, not annunciated
        self.state, self.acked, self.acked_at, self.acked_by = UNACK, False, None, ""
        return "raised"

    def clear(self, now: float, value: Value, ack_required: bool) -> str | None:
        """The condition went (after its off-delay)."""
        self.active = False
        self.value, self.cleared_at = value, now
        if self.state in (SHELVED, SUPPRESSED, OUT_OF_SERVICE):
            return "cleared"
        if self.state == UNACK and ack_required:
            self.state = RTN_UNACK
        else:
            self.state = NORMAL
        return "cleared"

    # --------------------------------------------------------- the operator
    def acknowledge(self, now: float, user: str) -> str:
        if self.state == UNACK:
            self.state = ACKED
        elif self.state == RTN_UNACK:
            self.state = NORMAL
        else:
            raise AlarmRefused(f"alarm {self.alarm_id} is {self.state}: nothing to acknowledge")
        self.acked, self.acked_at, self.acked_by = True, now, user
        return "acknowledged"

    def shelve(self, now: float, until: float, reason: str, user: str) -> str:
        if self.state in (SUPPRESSED, OUT_OF_SERVICE):
            raise AlarmRefused(f"alarm {self.alarm_id} is {self.state}: it cannot be shelved")
        if until <= now:
            raise AlarmRefused(f"alarm {self.alarm_id}: a shelve must end in the future")
        if not reason.strip():
            raise AlarmRefused(f"alarm {self.alarm_id}: a shelve needs a reason")
        self.state = SHELVED
        self.shelved_until, self.shelved_by, self.shelve_reason = until, user, reason
        return "shelved"

    def unshelve(self, user: str) -> str:
        if self.state != SHELVED:
            raise AlarmRefused(f"alarm {self.alarm_id} is {self.state}, not shelved")
        self.shelved_until, self.shelved_by, self.shelve_reason = None, "", ""
        self._back()
        return "unshelved"

    # --------------------------------------------------------- by design
    def suppress(self) -> str | None:
        if self.state in (SUPPRESSED, OUT_OF_SERVICE):
            return None
        if self.state == SHELVED:
            self.shelved_until, self.shelved_by, self.shelve_reason = None, "", ""
        self.state, self.active, self.pending_since = SUPPRESSED, False, None
        return "suppressed"

    def unsuppress(self) -> str | None:
        if self.state != SUPPRESSED:
            return None
        self.state, self.acked = NORMAL, True
        return "unsuppressed"

    def out_of_service(self) -> str | None:
        if self.state == OUT_OF_SERVICE:
            return None
        self.state, self.active, self.pending_since = OUT_OF_SERVICE, False, None
        return "out-of-service"

    def in_service(self) -> str | None:
        if self.state != OUT_OF_SERVICE:
            return None
        self.state, self.acked = NORMAL, True
        return "in-service"

    def _back(self) -> None:
        """Out of a shelve: an alarm still active is annunciated again, else normal."""
        if self.active:
            self.state, self.acked = UNACK, False
        else:
            self.state, self.acked = NORMAL, True
