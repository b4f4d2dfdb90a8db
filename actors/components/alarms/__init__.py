"""``alarms``: the alarm engine -- definitions, detection on the clock, the ISA-18.2 lifecycle, alarms.db.

The logic is :mod:`bms.alarms` (an :class:`~bms.alarms.AlarmBook`); this
package runs it: the engine actor (``_engine``), its slice of the API
(``/api/alarms``) and its commands (``bms alarms``, ``bms alarm``).
"""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.alarms import ALARM_MESSAGES
from bms.alarms._settings import AlarmsSection
from bms.components import Component


def _api(services: Any) -> Any:
    from actors.components.alarms._api import ServicesAlarms, alarms_router

    return alarms_router(ServicesAlarms(services))


def _commands() -> list[Any]:
    from actors.components.alarms._cli import alarm_group, alarms_group

    return [alarms_group, alarm_group]


def _shell() -> list[Any]:
    from actors.components.alarms._cli import ack_word, watch_word

    return [ack_word, watch_word]


def _toolbar(client: Any) -> str:
    from actors.components.alarms._cli import unacknowledged

    return unacknowledged(client)


COMPONENT = Component(
    name="alarms",
    children=lazy("actors.components.alarms._engine", "alarms_component"),
    requires=("nodes", "points"),
    after=("points",),
    settings=AlarmsSection,
    messages=ALARM_MESSAGES,
    api=_api,
    commands=_commands,
    shell=_shell,
    toolbar=_toolbar,
    description="alarm detection, the ISA-18.2 lifecycle (ack, shelve, suppress) and alarm history in alarms.db",
)

__getattr__ = lazy_exports(__name__, {"AlarmEngine": "._engine", "alarms_component": "._engine"})
__all__ = ["COMPONENT", "AlarmEngine", "alarms_component"]
