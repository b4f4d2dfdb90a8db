"""What an alarm is defined as: a condition on a point, its severity, class, delays, suppression and message.

Definitions come from three places, all the same Structs:

* a device profile's point (``[[points.alarms]]``): an :class:`AlarmSpec`
  whose other points are named by their key in the same device
  (``setpoint = "zone_sp"``), turned into an :class:`AlarmDefinition` for
  each device of that profile by :meth:`AlarmSpec.definition`;
* the scenario (``[[alarms]]``) and the API/CLI at run time: an
  :class:`AlarmDefinition` with whole point ids.

Conditions (``type``):

=============  ==================================================================
``high``       value above ``limit``; normal again below ``limit - deadband``
``low``        value below ``limit``; normal again above ``limit + deadband``
``deviation``  ``|value - setpoint point|`` above ``band`` (normal below ``band - deadband``)
``state``      value is one of ``values`` (a boolean state, multistate alarm values)
``change``     the value changed (a change-of-state event; normal after ``hold`` s)
``mismatch``   command and feedback disagree (``feedback`` point; none: the point's
               own ``mismatch`` flag, its device not holding its command)
``stale``      no update for ``period`` seconds
``down``       the point's device is down (the bridges' liveness)
=============  ==================================================================

``on_delay``: the condition must hold that long before the alarm is raised;
``off_delay``: it must be gone that long before the alarm clears. Both run
on the clock. ``suppress``: no alarm while a condition point has a value
(the AHU fan is off) and for ``settle`` seconds after it stops having it.
"""

from __future__ import annotations

import string
from typing import Any

from bms.config._alarms import (
    SEVERITIES,
    TEMPLATE_FIELDS,
    AlarmDefinition,
    AlarmSpec,
    Band,
    ChangeOfState,
    CommandMismatch,
    Condition,
    Delay,
    Deviation,
    DeviceDownAlarm,
    HighLimit,
    LowLimit,
    Severity,
    StaleValue,
    StateAlarm,
    Suppression,
    Value,
    cond_type,
)

__all__ = [
    "SEVERITIES", "TEMPLATE_FIELDS", "AlarmDefinition", "AlarmSpec", "Band", "ChangeOfState", "CommandMismatch",
    "Condition", "Delay", "Deviation", "DeviceDownAlarm", "HighLimit", "LowLimit", "Severity", "StaleValue",
    "StateAlarm", "Suppression", "Value", "check_template", "cond_type", "describe", "render",
]


def describe(cond: Condition, unit: str = "") -> str:
    """The condition in words, as messages show it: "above 28 °C", "more than 3 °C from vav1/zone_sp"..."""
    shown = f" {unit}" if unit and not unit.startswith(("°", "%")) else unit
    if isinstance(cond, HighLimit):
        return f"above {cond.limit:g}{shown}"
    if isinstance(cond, LowLimit):
        return f"below {cond.limit:g}{shown}"
    if isinstance(cond, Deviation):
        return f"more than {cond.band:g}{shown} from {cond.setpoint}"
    if isinstance(cond, StateAlarm):
        return "in alarm state" if cond.values != [True] else "active"
    if isinstance(cond, ChangeOfState):
        return "changed"
    if isinstance(cond, CommandMismatch):
        return f"command and {cond.feedback} disagree" if cond.feedback else "not holding its command"
    if isinstance(cond, StaleValue):
        return f"not updated for {cond.period:g} s"
    return "device down"


DEFAULT_TEMPLATE = "{name} {condition}: {value}{unit}"


def check_template(template: str) -> str | None:
    """Why ``template`` cannot format a message (an unknown field, a bad brace), or None."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as err:
        return f"bad template {template!r}: {err}"
    for name in fields:
        if name.split(".")[0].split("[")[0] not in TEMPLATE_FIELDS:
            return f"unknown field {{{name}}} in {template!r} (one of {', '.join(TEMPLATE_FIELDS)})"
    return None


def render(template: str, fields: dict[str, Any]) -> str:
    """The message of an alarm: ``template`` (checked with :func:`check_template`) filled in."""
    text = template or DEFAULT_TEMPLATE
    shown = dict(fields)
    value = shown.get("value")
    shown["value"] = f"{value:g}" if isinstance(value, float) else "-" if value is None else value
    unit = shown.get("unit") or ""
    shown["unit"] = f" {unit}" if unit and not unit.startswith(("°", "%")) else unit
    try:
        return text.format_map(_Missing(shown))
    except (ValueError, IndexError, AttributeError, KeyError):
        return DEFAULT_TEMPLATE.format_map(_Missing(shown))


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""
