"""``Component``: what a component tells the platform, the CLI and the API about itself.

A component is a package that exports one ``Component`` (its descriptor)
through the ``bms.components`` entry-point group. The descriptor is plain
data and must be cheap to import: the CLI reads every descriptor to find
commands and settings sections, so the actor classes are imported inside
``children``, when the platform starts the component.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    import click

    from bms.ports import Endpoint

ANY_OTHER = "*"
"""In ``after``: start once every component that does not itself say ``*`` has started."""


@dataclass(frozen=True)
class Component:
    """One component of a site.

    ``name``      the component's name (its health entry when it cannot start, its settings section by default)
    ``children``  ``(platform) -> [ChildSpec]``: the supervised actors to start (none: nothing to run on this site)
    ``requires``  components that must start first; a missing one or a cycle keeps this one Down with one line
    ``after``     components to start after when they are present (``*``: after all others)
    ``settings``  the Struct of its settings section ``[section]`` (default: ``[name]``), validated at load
    ``messages``  the message types it defines (gathered into the platform's catalog and the API document)
    ``api``       ``(services) -> litestar Router``: its slice of the local API over its own small gateway
    ``commands``  ``() -> [click.Command]``: its CLI commands (the shell offers them too)
    ``shell``     ``() -> [click.Command]``: words only the shell has
    ``endpoints`` ``(platform) -> [bms.ports.Endpoint]``: the addresses its actors will bind; the daemon
                  refuses to start, naming the address and its holder, when another process holds one
    ``toolbar``   ``(client) -> str``: a short status for the shell's bottom toolbar ("alarms: 2 unacknowledged")
    ``daemon_options`` ``() -> [click.Option]``: options it adds to ``bms daemon`` (``--mqtt URL``); they take
                  ``expose_value=False`` and act through their callback (setting the environment its settings read)
    ``checks``    ``(settings, loaded scenario, model nodes) -> [str]``: the problems of the files it reads
                  (programs, rule libraries, the scenario's parts it owns) against the site, one line each, naming
                  the file: ``bms config check`` prints them beside the scenario's own
    """

    name: str
    children: Callable[[Any], Sequence[Any]]
    requires: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    settings: type[msgspec.Struct] | None = None
    section: str = ""
    messages: tuple[type[msgspec.Struct], ...] = ()
    api: Callable[[Any], Any] | None = None
    commands: Callable[[], Sequence[click.Command]] | None = None
    shell: Callable[[], Sequence[click.Command]] | None = None
    endpoints: Callable[[Any], Sequence[Endpoint]] | None = None
    toolbar: Callable[[Any], str] | None = None
    daemon_options: Callable[[], Sequence[click.Parameter]] | None = None
    checks: Callable[[Any, Any, Sequence[Any]], Sequence[str]] | None = None
    description: str = ""

    @property
    def section_name(self) -> str:
        return self.section or self.name

    def settings_from(self, sections: dict[str, Any]) -> Any:
        """This component's settings out of the loaded sections (its defaults when the file has none)."""
        if self.settings is None:
            return None
        found = sections.get(self.section_name)
        return found if found is not None else self.settings()
