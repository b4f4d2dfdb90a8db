"""Finding the installed components: the ``bms.components`` entry-point group.

Nothing here is global: :func:`installed` reads the entry points each time
it is called and returns what it found with the problems of what it could
not load, so one broken component never hides the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from bms.components._descriptor import Component

GROUP = "bms.components"
COMMANDS = "bms.commands"


@dataclass(frozen=True)
class Broken:
    """A component that could not be loaded, with the one line that says why."""

    name: str
    reason: str


@dataclass
class Installed:
    components: list[Component] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)

    def names(self) -> list[str]:
        return [c.name for c in self.components]


def _load(ep: EntryPoint) -> Any:
    return ep.load()


def installed(group: str = GROUP) -> Installed:
    """Every component installed in this environment, in entry-point name order."""
    found = Installed()
    seen: dict[str, str] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        where = f"{ep.value}" + (f" ({ep.dist.name})" if ep.dist is not None else "")
        try:
            descriptor = _load(ep)
        except Exception as err:  # a broken plugin is one line; the site runs without it
            found.broken.append(Broken(ep.name, f"cannot be loaded from {where}: {type(err).__name__}: {err}"))
            continue
        if not isinstance(descriptor, Component):
            found.broken.append(Broken(ep.name, f"{where} is a {type(descriptor).__name__}, not a Component"))
            continue
        if descriptor.name in seen:
            if seen[descriptor.name] != where:  # the same distribution seen twice on the path is not a clash
                found.broken.append(Broken(descriptor.name, f"two components named {descriptor.name!r}: "
                                                            f"{seen[descriptor.name]} and {where}"))
            continue
        seen[descriptor.name] = where
        found.components.append(descriptor)
    return found


def installed_commands(group: str = COMMANDS) -> tuple[dict[str, EntryPoint], list[str]]:
    """The commands registered outside any component (``bms daemon``), by name, unloaded."""
    commands: dict[str, EntryPoint] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        commands.setdefault(ep.name, ep)
    return commands, []


def by_name(components: Sequence[Component]) -> dict[str, Component]:
    return {c.name: c for c in components}
