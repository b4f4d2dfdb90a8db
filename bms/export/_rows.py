"""``ExportRow``: one sample on its way to a target (from the live feed, the outbox or history)."""

from __future__ import annotations

from typing import NamedTuple

from bms.messages import Value


class ExportRow(NamedTuple):
    """A sample: its point, time (epoch s) and value."""

    point_id: str
    ts: float
    value: Value
