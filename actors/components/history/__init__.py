"""``history``: COV and interval logging, rollups and retention, the only writer of ``history.db``."""

from __future__ import annotations

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.config import HistorySection

COMPONENT = Component(
    name="history",
    children=lazy("actors.components.history._store", "history_component"),
    requires=("nodes",),
    settings=HistorySection,
    description="recorded values, 15 min / 1 h / 1 day rollups and retention in history.db",
)

__getattr__ = lazy_exports(__name__, {"HistoryStore": "._store", "history_component": "._store"})
__all__ = ["COMPONENT", "HistoryStore", "history_component"]
