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
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

Value = Union[float, int, bool, str, None]

SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
Severity = Literal["low", "medium", "high", "critical"]
Delay = Annotated[float, Meta(ge=0, le=86_400 * 7)]
Band = Annotated[float, Meta(ge=0)]

TEMPLATE_FIELDS = ("name", "point", "value", "unit", "condition", "severity", "limit")
"""What a message template may name: ``"{name} is {value}{unit} ({condition})"``."""


class _Cond(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    pass


class HighLimit(_Cond, frozen=True, tag="high"):
    limit: float
    deadband: Band = 0.0


class LowLimit(_Cond, frozen=True, tag="low"):
    limit: float
    deadband: Band = 0.0


class Deviation(_Cond, frozen=True, tag="deviation"):
    setpoint: str  # a point id (a point key in a profile)
    band: Annotated[float, Meta(gt=0)]
    deadband: Band = 0.0


class StateAlarm(_Cond, frozen=True, tag="state"):
    values: list[Union[bool, int, str]] = msgspec.field(default_factory=lambda: [True])


class ChangeOfState(_Cond, frozen=True, tag="change"):
    hold: Delay = 0.0  # seconds the alarm stays active after a change


class CommandMismatch(_Cond, frozen=True, tag="mismatch"):
    feedback: str | None = None  # a point id (key in a profile); None: the point's own "mismatch" flag


class StaleValue(_Cond, frozen=True, tag="stale"):
    period: Annotated[float, Meta(gt=0)]


class DeviceDownAlarm(_Cond, frozen=True, tag="down"):
    pass


Condition = Union[HighLimit, LowLimit, Deviation, StateAlarm, ChangeOfState, CommandMismatch, StaleValue, DeviceDownAlarm]


class Suppression(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """No alarm while ``point`` has the value ``when`` (default: False, the equipment is off), and ``settle`` s after."""

    point: str  # a point id (key in a profile)
    when: Union[bool, int, float, str] = False
    settle: Delay = 0.0


class _Common(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    condition: Condition
    severity: Severity = "medium"
    alarm_class: str = "default"
    message: str = ""  # a template (TEMPLATE_FIELDS); "" gives "{name} {condition}: {value}{unit}"
    on_delay: Delay = 0.0
    off_delay: Delay = 0.0
    suppress: Suppression | None = None
    enabled: bool = True  # False: out of service


class AlarmDefinition(_Common, frozen=True):
    """One alarm of the site: a condition on ``point``."""

    id: str
    point: str

    def referenced(self) -> tuple[str, ...]:
        """The points this alarm reads beside its own (setpoint, feedback, suppression)."""
        cond = self.condition
        refs: list[str] = []
        if isinstance(cond, Deviation):
            refs.append(cond.setpoint)
        if isinstance(cond, CommandMismatch) and cond.feedback is not None:
            refs.append(cond.feedback)
        if self.suppress is not None:
            refs.append(self.suppress.point)
        return tuple(refs)


class AlarmSpec(_Common, frozen=True):
    """An alarm of a device profile's point; other points named by key. ``name``: its id suffix (default the type)."""

    name: str = ""

    def definition(self, device: str, key: str) -> AlarmDefinition:
        """This profile alarm on point ``key`` of ``device``: keys become point ids."""
        cond = self.condition

        def pid(other: str) -> str:
            return other if "/" in other else f"{device}/{other}"

        if isinstance(cond, Deviation):
            cond = msgspec.structs.replace(cond, setpoint=pid(cond.setpoint))
        elif isinstance(cond, CommandMismatch) and cond.feedback is not None:
            cond = msgspec.structs.replace(cond, feedback=pid(cond.feedback))
        suppress = self.suppress
        if suppress is not None:
            suppress = msgspec.structs.replace(suppress, point=pid(suppress.point))
        point = f"{device}/{key}"
        fields = {f: getattr(self, f) for f in _Common.__struct_fields__}
        fields.update(condition=cond, suppress=suppress)
        return AlarmDefinition(id=f"{point}:{self.name or cond_type(cond)}", point=point, **fields)


def cond_type(cond: Condition) -> str:
    """The condition's ``type`` tag: "high", "stale"..."""
    return str(type(cond).__struct_config__.tag)


def describe(cond: Condition, value: Value = None) -> str:
    """The condition in words, as messages show it: "above 28", "not 'running'"..."""
    if isinstance(cond, HighLimit):
        return f"above {cond.limit:g}"
    if isinstance(cond, LowLimit):
        return f"below {cond.limit:g}"
    if isinstance(cond, Deviation):
        return f"more than {cond.band:g} from {cond.setpoint}"
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
