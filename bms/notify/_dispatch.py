"""The dispatcher: what to send, to whom, and when -- notices at a raise, escalations and flood digests.

A plain object on an injected time (``now``, epoch seconds): the notifier
component feeds it the alarm events and asks it on each tick what is due.

* :meth:`Dispatcher.raised` -- an alarm to annunciate (an ``AlarmRaised``
  with ``notify``, or an ``AlarmUnshelved`` still unacknowledged): a
  :class:`Notice` for each recipient of the rules it matches now, and the
  escalation of each such rule armed (level 2 after its first step's
  minutes, level 3 after the second's). During a flood the alarm joins each
  recipient's open digest instead (opened at the first flooded alarm, sent
  ``digest_interval`` seconds later, listing every alarm it collected).
* :meth:`Dispatcher.settled` -- acknowledged, cleared to normal or shelved:
  its escalation stops.
* :meth:`Dispatcher.due` -- the escalations and digests due at ``now``; an
  escalation to a recipient whose digest is open joins the digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo

import msgspec

from bms.notify._routing import AlarmFacts, Routing
from bms.notify._settings import NotifySection, RoutingRule
from bms.notify._text import alarm_body, alarm_title, digest_body, digest_title, worst_severity


class Notice(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One message to one recipient."""

    recipient: str
    kind: str  # alarm | escalation | digest | test
    alarm_ids: tuple[str, ...] = ()
    title: str
    body: str
    severity: str = ""
    level: int = 1


@dataclass
class _Escalation:
    alarm: AlarmFacts
    rule: RoutingRule
    step: int  # index of the next step of rule.escalation
    due: float
    waited: float = 0.0  # minutes since the raise, at the next step


@dataclass
class _Digest:
    due: float
    alarms: list[AlarmFacts] = field(default_factory=list)


class Dispatcher:
    def __init__(self, section: NotifySection, tz: tzinfo) -> None:
        self.section = section
        self.tz = tz
        self.routing = Routing(section, tz)
        self.escalations: dict[tuple[str, str], _Escalation] = {}  # (alarm id, rule name) -> next step
        self.digests: dict[str, _Digest] = {}  # recipient -> its open digest

    # ----------------------------------------------------------------- events
    def raised(self, alarm: AlarmFacts, now: float, flood: bool = False) -> list[Notice]:
        """Annunciate ``alarm``: notices to send now (none for the recipients whose digest takes it)."""
        self.settled(alarm.alarm_id)  # a raise again starts its escalation anew
        rules = self.routing.rules(alarm, now)
        for rule in rules:
            if rule.escalation:
                after = rule.escalation[0].after_minutes * 60.0
                self.escalations[(alarm.alarm_id, rule.name)] = _Escalation(alarm, rule, 0, now + after, after)
        recipients = self.routing.enabled([name for rule in rules for name in rule.recipients])
        out: list[Notice] = []
        for r in recipients:
            if flood or r.name in self.digests:
                self._collect(r.name, alarm, now)
            else:
                out.append(self._notice(r.name, alarm, "alarm", 1))
        return out

    def settled(self, alarm_id: str) -> int:
        """Acknowledged, cleared to normal or shelved: stop its escalation. How many escalations stopped."""
        keys = [k for k in self.escalations if k[0] == alarm_id]
        for key in keys:
            del self.escalations[key]
        return len(keys)

    def escalating(self, alarm_id: str) -> bool:
        return any(k[0] == alarm_id for k in self.escalations)

    # ------------------------------------------------------------------ clock
    def due(self, now: float) -> list[Notice]:
        """What is due at ``now``: escalation steps, then the digests whose interval is over."""
        out: list[Notice] = []
        for key, esc in list(self.escalations.items()):
            if esc.due > now:
                continue
            step = esc.rule.escalation[esc.step]
            level = esc.step + 2
            for r in self.routing.enabled(step.recipients):
                if r.name in self.digests:
                    self._collect(r.name, esc.alarm, now)
                else:
                    out.append(self._notice(r.name, esc.alarm, "escalation", level, esc.waited))
            esc.step += 1
            if esc.step < len(esc.rule.escalation):
                after = esc.rule.escalation[esc.step].after_minutes * 60.0
                esc.due = now + after
                esc.waited += after
            else:
                del self.escalations[key]
        for name, digest in list(self.digests.items()):
            if digest.due <= now:
                del self.digests[name]
                out.append(Notice(recipient=name, kind="digest",
                                  alarm_ids=tuple(dict.fromkeys(a.alarm_id for a in digest.alarms)),
                                  title=digest_title(digest.alarms), body=digest_body(digest.alarms, self.tz),
                                  severity=worst_severity(digest.alarms)))
        return out

    def next_due(self) -> float | None:
        times = [e.due for e in self.escalations.values()] + [d.due for d in self.digests.values()]
        return min(times) if times else None

    # ---------------------------------------------------------------- helpers
    def _collect(self, recipient: str, alarm: AlarmFacts, now: float) -> None:
        digest = self.digests.get(recipient)
        if digest is None:
            digest = self.digests[recipient] = _Digest(due=now + self.section.digest_interval)
        digest.alarms.append(alarm)

    def _notice(self, recipient: str, alarm: AlarmFacts, kind: str, level: int, waited: float = 0.0) -> Notice:
        return Notice(recipient=recipient, kind=kind, alarm_ids=(alarm.alarm_id,), title=alarm_title(alarm, level),
                      body=alarm_body(alarm, self.tz, level, waited), severity=alarm.severity, level=level)
