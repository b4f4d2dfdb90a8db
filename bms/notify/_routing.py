"""Routing: which rules an alarm matches now, and so which recipients it goes to.

Pure functions over :class:`AlarmFacts` (the alarm and what the model says
of its point) and a time; the time windows are read in the site's timezone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import NamedTuple

from bms.notify._settings import WEEKDAYS, NotifySection, Recipient, RoutingRule, TimeWindow

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class AlarmFacts(NamedTuple):
    """An alarm as routing and the messages see it: the event's fields and its point's place in the model."""

    alarm_id: str
    point_id: str
    severity: str
    text: str
    ts: float
    alarm_class: str = "default"
    value: object = None
    point_name: str = ""
    unit: str = ""
    tags: frozenset[str] = frozenset()  # of the point and of every node above it
    ancestors: frozenset[str] = frozenset()  # the ids of the nodes above the point (equipment, space, site)
    chattering: bool = False
    source: str = "bms"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def window_open(window: TimeWindow, at: datetime) -> bool:
    """Whether ``window`` is open at ``at`` (a local, aware time). ``end`` before ``start``: past midnight."""
    start, end = _minutes(window.start), _minutes(window.end)
    minute = at.hour * 60 + at.minute + at.second / 60.0
    today = WEEKDAYS[at.weekday()]
    if start == end:  # the whole day
        return today in window.days
    if start < end:
        return today in window.days and start <= minute < end
    yesterday = WEEKDAYS[(at.weekday() - 1) % 7]
    return (today in window.days and minute >= start) or (yesterday in window.days and minute < end)


def rule_matches(rule: RoutingRule, alarm: AlarmFacts, at: datetime, windows: Mapping[str, TimeWindow]) -> bool:
    """Whether ``alarm`` matches every filter of ``rule`` at local time ``at``."""
    if rule.severities and alarm.severity not in rule.severities:
        return False
    if rule.min_severity is not None and SEVERITY_RANK.get(alarm.severity, -1) < SEVERITY_RANK[rule.min_severity]:
        return False
    if rule.classes and alarm.alarm_class not in rule.classes:
        return False
    if rule.tags and not set(rule.tags) <= alarm.tags:
        return False
    if rule.under and not any(node == alarm.point_id or node in alarm.ancestors for node in rule.under):
        return False
    if rule.during and not any(name in windows and window_open(windows[name], at) for name in rule.during):
        return False
    return not any(name in windows and window_open(windows[name], at) for name in rule.outside)


class Routing:
    """The rules of a ``[notify]`` section in a timezone."""

    def __init__(self, section: NotifySection, tz: tzinfo) -> None:
        self.section = section
        self.tz = tz

    def local(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, self.tz)

    def rules(self, alarm: AlarmFacts, now: float) -> list[RoutingRule]:
        """The rules ``alarm`` matches at ``now`` (epoch seconds), in file order."""
        at = self.local(now)
        windows = self.section.all_windows
        return [r for r in self.section.rules if rule_matches(r, alarm, at, windows)]

    def enabled(self, names: list[str]) -> list[Recipient]:
        """The recipients named that are enabled, each once, in order."""
        out: dict[str, Recipient] = {}
        for name in names:
            found = self.section.recipient(name)
            if found is not None and found.enabled:
                out.setdefault(name, found)
        return list(out.values())

    def recipients(self, alarm: AlarmFacts, now: float) -> list[Recipient]:
        """Who is notified of ``alarm`` at ``now``: the recipients of every rule it matches (level 1)."""
        return self.enabled([name for rule in self.rules(alarm, now) for name in rule.recipients])
