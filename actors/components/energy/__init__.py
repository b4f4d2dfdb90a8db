"""``energy``: the energy engine -- meters, interval data in energy.db, demand, bills, baselines, savings.

The mathematics is :mod:`bms.energy`; this package runs it: the engine actor (``_engine``), its
slice of the API (``/api/energy``) and its commands (``bms energy``).
"""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.energy._settings import EnergySection
from bms.energy.messages import ENERGY_MESSAGES


def _api(services: Any) -> Any:
    from actors.components.energy._api import ServicesEnergy, energy_router

    return energy_router(ServicesEnergy(services))


def _commands() -> list[Any]:
    from actors.components.energy._cli import energy_group

    return [energy_group]


COMPONENT = Component(
    name="energy",
    children=lazy("actors.components.energy._engine", "energy_component"),
    requires=("nodes", "points"),
    after=("points", "history"),
    settings=EnergySection,
    messages=ENERGY_MESSAGES,
    api=_api,
    commands=_commands,
    description="energy analytics: kWh intervals in energy.db, 15-minute demand, bills, baselines and savings",
)

__getattr__ = lazy_exports(__name__, {"EnergyEngine": "._engine", "energy_component": "._engine"})
__all__ = ["COMPONENT", "EnergyEngine", "energy_component"]
