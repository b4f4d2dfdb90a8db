"""``fdd``: fault detection and diagnostics -- the G36 AHU fault conditions and the generic rules, live.

The rules are :mod:`bms.fdd`; this package runs them: the engine actor (``_engine``), its slice of the
API (``/api/fdd``) and its commands (``bms fdd rules|bindings|faults|ack|run``).
"""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.fdd._settings import FddSection
from bms.fdd.messages import FDD_MESSAGES


def _api(services: Any) -> Any:
    from actors.components.fdd._api import ServicesFdd, fdd_router

    return fdd_router(ServicesFdd(services))


def _commands() -> list[Any]:
    from actors.components.fdd._cli import fdd_group

    return [fdd_group]


def _shell() -> list[Any]:
    from actors.components.fdd._cli import watch_faults_word

    return [watch_faults_word]


def _toolbar(client: Any) -> str:
    from bms.fdd.messages import FaultView

    active = client.get("/api/fdd/faults", list[FaultView], params={"active": "true"})
    return f"faults: {len(active)}" if active else ""


COMPONENT = Component(
    name="fdd",
    children=lazy("actors.components.fdd._engine", "fdd_component"),
    requires=("nodes", "points"),
    after=("points", "alarms", "audit"),
    settings=FddSection,
    messages=FDD_MESSAGES,
    api=_api,
    commands=_commands,
    shell=_shell,
    toolbar=_toolbar,
    description="fault detection: ASHRAE Guideline 36 AHU fault conditions and generic rules, live and over history",
)

__getattr__ = lazy_exports(__name__, {"FddEngine": "._engine", "fdd_component": "._engine"})
__all__ = ["COMPONENT", "FddEngine", "fdd_component"]
