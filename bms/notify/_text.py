"""What a notification says: the title (an email's subject) and the body, for each kind of notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from bms.notify._routing import AlarmFacts


def _value(alarm: AlarmFacts) -> str:
    if alarm.value is None:
        return ""
    return f"{alarm.value} {alarm.unit}".strip()


def _point(alarm: AlarmFacts) -> str:
    return f"{alarm.point_name} ({alarm.point_id})" if alarm.point_name and alarm.point_name != alarm.point_id \
        else alarm.point_id


def alarm_title(alarm: AlarmFacts, level: int = 1) -> str:
    escalated = f"escalation level {level}: " if level > 1 else ""
    chattering = " (chattering)" if alarm.chattering else ""
    return f"[{alarm.severity.upper()}] {escalated}{alarm.text}{chattering}"


def alarm_body(alarm: AlarmFacts, tz: tzinfo, level: int = 1, waited: float = 0.0) -> str:
    when = datetime.fromtimestamp(alarm.ts, tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    lines = [alarm.text, "", f"Severity: {alarm.severity}", f"Point: {_point(alarm)}"]
    if _value(alarm):
        lines.append(f"Value: {_value(alarm)}")
    lines += [f"Class: {alarm.alarm_class}", f"Raised: {when}", f"Alarm: {alarm.alarm_id}"]
    if alarm.source != "bms":
        lines.append(f"Source: {alarm.source}")
    if alarm.chattering:
        lines.append("The point is chattering: further raises are not notified.")
    if level > 1:
        lines.append(f"Escalation level {level}: not acknowledged for {waited / 60:.0f} min.")
    return "\n".join(lines)


def worst_severity(alarms: Sequence[AlarmFacts]) -> str:
    return max((a.severity for a in alarms), key=_rank, default="low")


def digest_title(alarms: Sequence[AlarmFacts]) -> str:
    return f"[{worst_severity(alarms).upper()}] alarm flood: {len(alarms)} alarm(s)"


def digest_body(alarms: Sequence[AlarmFacts], tz: tzinfo) -> str:
    lines = [f"{len(alarms)} alarm(s) during an alarm flood:", ""]
    for a in alarms:
        when = datetime.fromtimestamp(a.ts, tz).strftime("%H:%M:%S")
        value = f" = {_value(a)}" if _value(a) else ""
        lines.append(f"{when} [{a.severity}] {_point(a)}{value}: {a.text} ({a.alarm_id})")
    return "\n".join(lines)


def test_title() -> str:
    return "bms: test notification"


def test_body(recipient: str, now: float, tz: tzinfo) -> str:
    when = datetime.fromtimestamp(now, tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"A test notification from bms to recipient {recipient!r}, sent {when}."


def _rank(severity: str) -> int:
    from bms.notify._routing import SEVERITY_RANK

    return SEVERITY_RANK.get(severity, -1)
