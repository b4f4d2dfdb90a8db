"""HistoryReader: queries on a read-only connection of its own.

WAL lets it read while the writer appends: each query sees the database as
it was when the query began, never blocks the writer and is never blocked
by it. Use one reader per thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from bms.errors import StoreError
from bms.history._query import (
    Query,
    Rows,
    check_plan,
    header,
    last_plan,
    next_start,
    page_lines,
    page_query,
    points_plan,
    raw_plan,
    series_plan,
    tier_plan,
)
from bms.history._schema import Tier
from bms.history._series import PointSummary, RawSample, Series
from bms.store import connect_raw

T = TypeVar("T")


def missing(path: Path) -> StoreError:
    return StoreError(f"{path}: no history database (nothing recorded yet, or the wrong data directory)")


class HistoryReader:
    """Reads history.db at ``path``: raw samples, rollups, last values, points, CSV."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise missing(self.path)
        self._conn = connect_raw(self.path, readonly=True)
        try:
            self._run(check_plan(str(self.path)))
        except BaseException:
            self._conn.close()
            raise

    def raw(self, point_id: str, start: float, end: float, limit: int | None = None) -> list[RawSample]:
        """Samples with ``start <= ts < end``, oldest first, at most ``limit``."""
        return self._run(raw_plan(point_id, start, end, limit))

    def rollup(self, point_id: str, start: float, end: float, tier: Tier | None = None,
               limit: int | None = None) -> Series:
        """Buckets of ``tier`` over ``[start, end)`` (None: automatic, which may be raw samples)."""
        return self._run(series_plan(point_id, start, end, tier, limit))

    def last(self, point_id: str, n: int = 1) -> list[RawSample]:
        """The ``n`` most recent samples, oldest first."""
        return self._run(last_plan(point_id, n))

    def points(self) -> list[PointSummary]:
        """Every recorded point with its raw sample count and time range, by id."""
        return self._run(points_plan())

    def csv(self, point_id: str, start: float, end: float, tier: Tier | None = None) -> Iterator[str]:
        """Header and lines of :meth:`rollup` as CSV, streamed a page at a time."""
        chosen = self._run(tier_plan(point_id, start, end, tier))
        return self._lines(point_id, chosen, start, end)

    def _lines(self, point_id: str, tier: Tier, start: float, end: float) -> Iterator[str]:
        yield header(tier)
        at: float | None = start
        while at is not None:
            rows = self._fetch(page_query(point_id, tier, at, end))
            yield from page_lines(tier, rows)
            at = next_start(tier, rows)

    def _fetch(self, query: Query) -> Rows:
        try:
            return self._conn.execute(*query).fetchall()
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot read history: {err}") from err

    def _run(self, plan: Generator[Query, Rows, T]) -> T:
        try:
            query = next(plan)
            while True:
                query = plan.send(self._fetch(query))
        except StopIteration as stop:
            result: T = stop.value
            return result

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
