"""Platform assembly: the components of a site, started in dependency order.

The Platform gathers the installed components (the ``bms.components``
entry points; a test may pass its own list), orders them by ``requires``
and ``after`` (:func:`bms.components.start_plan`), and starts each
component's actors under the root supervisor, waiting for each to be up
before the next. A component that cannot be loaded, whose requirements are
missing or form a cycle, or whose ``children`` raise, is Down with one
line and the rest of the site runs (unless one of its actors is critical:
the stores). ``stop()`` stops them in reverse and reports any actor still
alive. Nothing here is global: each Platform has its own components,
message catalog, registry and supervisor. ``endpoints()`` lists the
addresses the components will bind, so that the daemon can refuse to start
when another process holds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors._context import Context, make_context
from bms import messages
from bms.clock import Clock
from bms.components import Broken, Component, MessageCatalog, StartPlan, installed, start_plan
from bms.config import LoadedScenario, Settings
from bms.errors import BmsError, NotFound
from bms.logs import get_logger
from bms.ports import Endpoint
from bms.supervision import Health


@dataclass
class Platform:
    settings: Settings
    site: LoadedScenario
    data_dir: Path
    clock: Clock | None = None
    api_port: int | None = None
    simulate: bool | None = None  # None: the scenario decides
    components: Sequence[Component] | None = None  # None: those installed in this environment
    ctx: Context = field(init=False)
    started: list[str] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)
    plan: StartPlan = field(init=False)
    catalog: MessageCatalog = field(init=False)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log = get_logger("platform")
        if self.components is None:
            found = installed()
            self.components, self.broken = found.components, [*found.broken, *self.broken]
        self.plan = start_plan(self.components, [b.name for b in self.broken])
        self.catalog = MessageCatalog([*messages.all_message_types(), *(m for c in self.components for m in c.messages)])
        self.ctx = make_context(self.clock, self.data_dir)
        self.ctx.catalog = self.catalog

    @property
    def simulating(self) -> bool:
        return self.site.scenario.simulate.enabled if self.simulate is None else self.simulate

    def component(self, name: str) -> Component:
        for c in self.components or ():
            if c.name == name:
                return c
        raise NotFound(f"no component named {name!r}")

    def section(self, name: str) -> Any:
        """The settings of component ``name`` (its defaults when the file has no section for it)."""
        return self.component(name).settings_from(self.settings.sections)

    def endpoints(self) -> list[Endpoint]:
        """Every address the components to start will bind (``Component.endpoints``), in start order.

        A component whose settings are refused, or whose ``endpoints`` fails, names none: it will be
        Down with its own line when it starts.
        """
        found: list[Endpoint] = []
        for comp in self.plan.order:
            if comp.endpoints is None or self.settings.broken.get(comp.section_name):
                continue
            try:
                found.extend(comp.endpoints(self))
            except Exception as err:  # its children() will say what is wrong
                self.log.debug("component endpoints unknown", component=comp.name, error=repr(err))
        return found

    def start(self) -> None:
        for broken in self.broken:
            self._down(broken.name, broken.reason)
        for blocked in self.plan.blocked:
            self._down(blocked.name, blocked.reason)
        for comp in self.plan.order:
            problems = self.settings.broken.get(comp.section_name)
            if problems:
                for line in problems:
                    self.log.error("component settings refused", component=comp.name, problem=line)
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                self._down(comp.name, f"settings: {problems[0]}{more}")
                continue
            try:
                specs = list(comp.children(self))
            except BmsError as err:
                self._down(comp.name, str(err))
                continue
            except Exception as err:  # a broken component is Down with one line; the site runs
                self.log.exception("component could not be assembled", component=comp.name)
                self._down(comp.name, f"could not be assembled: {type(err).__name__}: {err}")
                continue
            for spec in specs:
                ref = self.ctx.supervisor.start_child(spec)
                if ref is not None:
                    self.started.append(spec.name)
                else:
                    status = self.ctx.health.get(spec.name)
                    self.log.error("component is down", component=spec.name,
                                   reason=status.reason if status else "unknown")
            self.log.debug("component started", component=comp.name, actors=[s.name for s in specs])

    def _down(self, name: str, reason: str) -> None:
        now = self.ctx.clock.now()
        self.ctx.health.register(name, now)
        self.ctx.health.set(name, Health.DOWN, now, reason)
        self.log.error("component is down", component=name, reason=reason)

    def stop(self, timeout: float = 5.0) -> list[str]:
        return self.ctx.supervisor.stop_all(timeout=timeout)
