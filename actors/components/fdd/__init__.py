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


def _checks(section: FddSection, loaded: Any, nodes: Any) -> list[str]:
    """The rule library (``conf/fdd``: every problem) and the hand-made bindings of ``[fdd] bindings``."""
    from bms.errors import ConfigError
    from bms.fdd import bind, load_library
    from bms.fdd._settings import rules_directory

    directory = rules_directory(section, loaded.path)
    try:
        library = load_library(directory)
    except ConfigError as err:
        return list(err.problems)
    disabled = frozenset(r for r, s in library.switches.items() if not s.enabled)
    ids = {n.id for n in nodes}
    equips = {n.id for n in nodes if n.type == "Equip"}
    problems = [f"[fdd] bindings.{equip}: no equipment {equip!r} in the model" for equip in section.bindings
                if equip not in equips]
    problems += [f"[fdd] bindings.{b.equip}: {note}" for b in bind(nodes, section.bindings, disabled)
                 for note in b.notes if "match" not in note]
    for g in library.generic:  # as the engine leaves them out
        problems += [f"{directory}: generic rule {g.name}: {key}: no point {pid!r}"
                     for key, pid in g.points.items() if pid not in ids]
    return problems


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
    checks=_checks,
    description="fault detection: ASHRAE Guideline 36 AHU fault conditions and generic rules, live and over history",
)

__getattr__ = lazy_exports(__name__, {"FddEngine": "._engine", "fdd_component": "._engine"})
__all__ = ["COMPONENT", "FddEngine", "fdd_component"]
