"""A sink writes rows to one target; it raises :class:`SinkError` (one line, the target's words) on failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bms.errors import BmsError
from bms.export import ExportRow, TagMap
from bms.messages import PointValue


class SinkError(BmsError):
    """The target did not take the rows (down, refused, timed out): try again later."""


class Sink(Protocol):
    def write(self, rows: Sequence[ExportRow | PointValue]) -> None:
        """Write live (or caught-up) rows in order; a batch written twice must not duplicate."""

    def backfill(self, rows: Sequence[ExportRow]) -> None:
        """Write history rows, which the target may already have (idempotent)."""

    def retag(self, tags: TagMap) -> None:
        """The model changed: use these tags from now on."""

    def close(self) -> None: ...
