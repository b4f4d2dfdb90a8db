"""Ready-made occupancy schedules: ``office``, ``retail``, ``school`` and ``24x7``.

Each is a weekly program of ``occupied`` / ``unoccupied`` (default
``unoccupied``) that an integrator starts from and then adjusts with
``bms schedule set`` and ``bms schedule except``.
"""

from __future__ import annotations

from bms.errors import ConfigError
from bms.schedules._spec import WEEKDAYS, Schedule, TimeValue

OCCUPIED = "occupied"
UNOCCUPIED = "unoccupied"
TEMPLATES: tuple[str, ...] = ("office", "retail", "school", "24x7")


def _day(start: str, end: str) -> list[TimeValue]:
    return [TimeValue(start, OCCUPIED), TimeValue(end, UNOCCUPIED)]


_HOURS: dict[str, dict[str, tuple[str, str]]] = {
    "office": {d: ("07:00", "18:00") for d in WEEKDAYS[:5]},
    "retail": {**{d: ("08:30", "21:00") for d in WEEKDAYS[:6]}, "sun": ("10:30", "17:00")},
    "school": {d: ("07:30", "16:30") for d in WEEKDAYS[:5]},
}


def template(kind: str, name: str) -> Schedule:
    """The schedule ``name`` made from template ``kind``."""
    if kind == "24x7":
        return Schedule(name=name, default=OCCUPIED, weekly={d: [TimeValue("00:00", OCCUPIED)]  # type: ignore[misc]
                                                             for d in WEEKDAYS},
                        description="occupied around the clock")
    hours = _HOURS.get(kind)
    if hours is None:
        raise ConfigError(f"unknown template {kind!r}: one of {', '.join(TEMPLATES)}")
    weekly = {day: _day(*span) for day, span in hours.items()}
    return Schedule(name=name, default=UNOCCUPIED, weekly=weekly,  # type: ignore[arg-type]
                    description=f"{kind} hours")


def occupancy(schedule: Schedule) -> bool:
    """Whether a schedule marks occupancy (one of its values is ``occupied``)."""
    values = [schedule.default]
    values += [tv.value for program in schedule.weekly.values() for tv in program]
    values += [tv.value for ex in schedule.exceptions for tv in ex.program]
    return OCCUPIED in values
