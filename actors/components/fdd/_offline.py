"""The site as ``bms fdd run`` sees it without a daemon: the scenario's model, the library, the bindings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bms.fdd import EquipBinding, Library, bind, load_library
from bms.fdd._generic import GenericRule
from bms.fdd._settings import FddSection, rules_directory


@dataclass
class OfflineSite:
    name: str
    timezone: str
    library: Library
    bindings: list[EquipBinding]
    generic: list[GenericRule]


def offline_site(scenario: Path | None, rules: Path | None, under: str | None) -> OfflineSite:
    from bms.config import load_scenario, load_settings, scenario_path
    from bms.errors import ConfigError
    from bms.model import build_site

    section = FddSection()
    if scenario is None or rules is None:
        settings, path = load_settings(isolate=True)
        found = settings.sections.get("fdd")
        section = found if isinstance(found, FddSection) else section
        scenario = scenario or scenario_path(settings, path)
    loaded = load_scenario(scenario)
    nodes = build_site(loaded)
    if under is not None and under not in {n.id for n in nodes}:
        raise ConfigError(f"--under: no node {under!r} in {scenario}")
    library = load_library(rules or rules_directory(section, scenario))
    disabled = frozenset(r for r, s in library.switches.items() if not s.enabled)
    bindings = bind(nodes, section.bindings, disabled, under)
    scope = {b.equip for b in bindings}
    generic = [g for g in library.generic if under is None or next(iter(g.points.values())).split("/")[0] in scope]
    return OfflineSite(loaded.scenario.site.name, loaded.scenario.site.timezone, library, bindings, generic)


__all__ = ["OfflineSite", "offline_site"]
