"""``postgres``: export to PostgreSQL / TimescaleDB targets with COPY and store-and-forward.

One ``export:NAME`` actor per target of ``[postgres]``; the machinery is the
``export`` component's (:mod:`actors.components.export`).
"""

from __future__ import annotations

from actors.components import lazy
from bms.components import Component
from bms.export import PostgresSection

COMPONENT = Component(
    name="postgres",
    children=lazy("actors.components.export._targets", "postgres_component"),
    after=("nodes", "export"),
    settings=PostgresSection,
    description="time-series export to PostgreSQL/TimescaleDB: COPY, on-disk outbox, backfill without duplicates",
)

__all__ = ["COMPONENT"]
