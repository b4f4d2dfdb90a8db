"""The alarm definitions of configuration files (profiles, scenarios) and of the API: Structs only.

The logic that reads them lives in :mod:`bms.alarms`; see :mod:`bms.alarms._spec` for what each condition means.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

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


