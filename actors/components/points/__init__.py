"""``points``: live values and status, the 16-level priority arrays, overrides and write guards."""

from __future__ import annotations

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.points._mismatch import PointsSection

COMPONENT = Component(
    name="points",
    children=lazy("actors.components.points._store", "points_component"),
    requires=("nodes",),
    after=("history",),  # history subscribes before the first values are published
    settings=PointsSection,
    description="live point values, status, command priorities (overrides.db) and write guards",
)

__getattr__ = lazy_exports(__name__, {"PointStore": "._store", "points_component": "._store"})
__all__ = ["COMPONENT", "PointStore", "points_component"]
