"""``schedules``: the schedule engine -- weekly programs, exceptions, overrides, optimal start, schedules.db.

The logic is :mod:`bms.schedules` (a :class:`~bms.schedules.ScheduleBook`,
the store, optimal start); this package runs it: the engine actor
(``_engine``, with ``_zones`` for optimal start), its slice of the API
(``/api/schedules``) and its commands (``bms schedules``, ``bms schedule``).
"""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.schedules.messages import MESSAGES


def _api(services: Any) -> Any:
    from actors.components.schedules._api import ServicesSchedules, schedules_router

    return schedules_router(ServicesSchedules(services), services)


def _commands() -> list[Any]:
    from actors.components.schedules._cli import schedule_group, schedules_group
    from actors.components.schedules._device_cli import pull_command, push_command

    schedule_group.add_command(pull_command)  # device-resident schedules: bms schedule pull DEVICE
    schedule_group.add_command(push_command)  # bms schedule push NAME DEVICE
    return [schedules_group, schedule_group]


def _checks(section: Any, loaded: Any, nodes: Any) -> list[str]:
    """The scenario's schedules: each program and calendar, and the points each assignment names."""
    from actors.components.schedules._engine import schedule_of
    from bms.schedules import check, point_refs, resolve

    refs = point_refs(nodes)
    problems: list[str] = []
    for spec in loaded.scenario.schedules:
        where = f"{loaded.path}: schedules.{spec.name}"
        problems += [f"{where}: {p}" for p in check(schedule_of(spec))]
        for i, assignment in enumerate(spec.assign):
            problems += [f"{where}: assign[{i}]: {p}" for p in resolve(assignment, refs)[1]]
    return problems


COMPONENT = Component(
    name="schedules",
    children=lazy("actors.components.schedules._engine", "schedules_component"),
    requires=("nodes", "points"),
    after=("points", "audit"),
    messages=MESSAGES,
    api=_api,
    commands=_commands,
    checks=_checks,
    description="weekly schedules with exception calendars and overrides, written through the priority arrays; "
                "optimal start (schedules.db)",
)

__getattr__ = lazy_exports(__name__, {"ScheduleEngine": "._engine", "schedules_component": "._engine"})
__all__ = ["COMPONENT", "ScheduleEngine", "schedules_component"]
