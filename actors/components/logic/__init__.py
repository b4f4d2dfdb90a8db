"""``logic``: the logic engine -- programs of blocks (or hand-written Lua) run in sandboxes on triggers.

The logic is :mod:`bms.logic` (programs, the compiler, the sandbox, :class:`~bms.logic.RunningProgram`);
this package runs it: the engine actor (``_engine``), its slice of the API (``/api/logic``) and its
commands (``bms logic``).
"""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.logic._settings import LogicSection
from bms.logic.messages import LOGIC_MESSAGES


def _api(services: Any) -> Any:
    from actors.components.logic._api import ServicesLogic, logic_router

    return logic_router(ServicesLogic(services))


def _commands() -> list[Any]:
    from actors.components.logic._cli import logic_group

    return [logic_group]


def _checks(section: LogicSection, loaded: Any, nodes: Any) -> list[str]:
    """The programs of ``[logic] programs`` (every problem, against the site's points) and the trusted keys."""
    from bms.errors import ConfigError
    from bms.logic._keys import parse_public_key
    from bms.logic._running import load_directory, program_directory

    known = [n.id for n in nodes if n.type in ("Point", "VirtualPoint")]
    problems = list(load_directory(program_directory(section, loaded.path), known).problems)
    for i, key in enumerate(section.trusted_keys):
        try:
            parse_public_key(key)
        except ConfigError as err:
            problems.append(f"[logic] trusted_keys[{i}]: {err}")
    return problems


COMPONENT = Component(
    name="logic",
    children=lazy("actors.components.logic._engine", "logic_component"),
    requires=("nodes", "points"),
    after=("points", "alarms", "audit", "schedules"),
    settings=LogicSection,
    messages=LOGIC_MESSAGES,
    api=_api,
    commands=_commands,
    checks=_checks,
    description="the logic engine: block programs compiled to sandboxed Lua, run on the clock and on changes",
)

__getattr__ = lazy_exports(__name__, {"LogicEngine": "._engine", "logic_component": "._engine"})
__all__ = ["COMPONENT", "LogicEngine", "logic_component"]
