"""``history``: COV and interval logging, rollups and retention, the only writer of ``history.db``."""

from __future__ import annotations

from typing import Any

from actors.components import lazy_exports
from bms.components import Component
from bms.config import HistorySection


def _children(platform: Any) -> list[Any]:
    from actors.components.history._store import history_component

    return history_component(platform)


COMPONENT = Component(
    name="history",
    children=_children,
    requires=("nodes",),
    settings=HistorySection,
    description="recorded values, 15 min / 1 h / 1 day rollups and retention in history.db",
)

__getattr__ = lazy_exports(__name__, {"HistoryStore": "._store", "history_component": "._store"})
__all__ = ["COMPONENT", "HistoryStore", "history_component"]
