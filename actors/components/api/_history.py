"""History reads for the API: ``history.db`` through its own read connection.

The history actor is the only writer; WAL lets this reader run beside it,
so a long range never waits behind (or stalls) the writer's mailbox. The
:class:`~bms.history.AsyncHistoryReader` is opened on first use, on the
API's event loop, and closed with the app. No ``history.db`` yet means
nothing is recorded yet (503, saying so).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

import msgspec

from bms.api import HistorySample, HistorySeries, RollupBucket, ServiceUnavailable
from bms.history import AsyncHistoryReader, Series, Tier
from bms.messages import QueryHistory


class HistoryReads:
    """Series and CSV for the API from ``history.db`` at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader: AsyncHistoryReader | None = None

    async def open(self) -> AsyncHistoryReader:
        if self._reader is None:
            if not self.path.is_file():
                raise ServiceUnavailable("history", f"has recorded nothing yet (no {self.path.name})")
            self._reader = await AsyncHistoryReader(self.path).open()
        return self._reader

    async def series(self, query: QueryHistory) -> HistorySeries:
        reader = await self.open()
        if query.rollup is None:
            samples = await reader.raw(query.point_id, query.start, query.end, limit=query.limit)
            got = Series(query.point_id, query.start, query.end, "raw", samples=tuple(samples))
        else:
            got = await reader.rollup(query.point_id, query.start, query.end, tier=_tier(query), limit=query.limit)
        return HistorySeries(
            point_id=got.point_id, start=got.start, end=got.end, rollup=got.tier,
            samples=tuple(HistorySample(ts=s.ts, value=s.value) for s in got.samples),
            buckets=tuple(msgspec.convert(b, RollupBucket, from_attributes=True) for b in got.buckets),
        )

    async def csv(self, query: QueryHistory) -> AsyncGenerator[str, None]:
        """CSV lines, header first; the first line is read before this returns, so a
        refusal comes before the response does."""
        reader = await self.open()
        lines = reader.csv(query.point_id, query.start, query.end, tier="raw" if query.rollup is None else _tier(query))
        first = await anext(lines)
        return _chain(first, lines)

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()


def _tier(query: QueryHistory) -> Tier | None:
    rollup = query.rollup
    if rollup in ("15m", "1h", "1d"):
        return rollup  # type: ignore[return-value]
    return None  # "auto": the reader chooses by span and coverage


async def _chain(first: str, rest: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    try:
        yield first
        async for line in rest:
            yield line
    finally:
        if isinstance(rest, AsyncGenerator):  # release the reader's page cursor now, not at GC
            await rest.aclose()
