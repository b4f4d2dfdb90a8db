"""``influx``: export to InfluxDB-compatible targets (InfluxDB 2, VictoriaMetrics) with store-and-forward.

One ``export:NAME`` actor per target of ``[influx]``; the machinery is the
``export`` component's (:mod:`actors.components.export`).
"""

from __future__ import annotations

from actors.components import lazy
from bms.components import Component
from bms.export import InfluxSection

COMPONENT = Component(
    name="influx",
    children=lazy("actors.components.export._targets", "influx_component"),
    after=("nodes", "export"),
    settings=InfluxSection,
    description="time-series export to InfluxDB-compatible targets: line protocol, on-disk outbox, backfill",
)

__all__ = ["COMPONENT"]
