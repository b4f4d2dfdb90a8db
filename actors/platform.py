"""Platform assembly: the components of a site, started in dependency order.

``Platform.start()`` starts each component under the root supervisor and
waits for it to be up before the next; a component that cannot start is
marked Down and the rest of the site runs (unless it is critical: the
stores). ``stop()`` stops them in reverse and reports any actor still alive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors._context import Context, make_context
from actors._supervisor import ChildSpec
from bms.clock import Clock
from bms.config import LoadedScenario, Settings
from bms.logs import get_logger

ComponentFactory = Callable[["Platform"], list[ChildSpec]]

_FACTORIES: list[tuple[int, str, ComponentFactory]] = []


def component(order: int, name: str) -> Callable[[ComponentFactory], ComponentFactory]:
    """Register a factory of ChildSpecs; lower ``order`` starts first."""

    def register(fn: ComponentFactory) -> ComponentFactory:
        _FACTORIES.append((order, name, fn))
        _FACTORIES.sort(key=lambda t: t[0])
        return fn

    return register


@dataclass
class Platform:
    settings: Settings
    site: LoadedScenario
    data_dir: Path
    clock: Clock | None = None
    api_port: int | None = None
    simulate: bool | None = None  # None: the scenario decides
    ctx: Context = field(init=False)
    started: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ctx = make_context(self.clock, self.data_dir)
        self.log = get_logger("platform")

    @property
    def simulating(self) -> bool:
        return self.site.scenario.simulate.enabled if self.simulate is None else self.simulate

    def start(self) -> None:
        _load_components()
        for _order, name, factory in list(_FACTORIES):
            for spec in factory(self):
                ref = self.ctx.supervisor.start_child(spec)
                if ref is not None:
                    self.started.append(spec.name)
                else:
                    self.log.error("component is down", component=spec.name,
                                   reason=(self.ctx.health.get(spec.name) or _NoStatus).reason)
            self.log.debug("component group started", group=name)

    def stop(self, timeout: float = 5.0) -> list[str]:
        return self.ctx.supervisor.stop_all(timeout=timeout)


class _NoStatus:
    reason = "unknown"


def _load_components() -> None:
    """Import every module of ``actors.components`` (each registers its factories once).

    A module that cannot be imported is logged and left out: the rest of the site runs.
    """
    import importlib
    import pkgutil

    import actors.components as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception as err:
            get_logger("platform").error("component module failed to load", module=info.name, error=repr(err))
