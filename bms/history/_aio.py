"""AsyncHistoryReader: the queries of :class:`HistoryReader` as coroutines (aiosqlite).

For callers in an event loop (the HTTP API): the connection lives on
aiosqlite's thread, so a long query never blocks the loop. It connects on
first use (or ``await reader.open()``); ``await reader.close()`` when done,
or use ``async with``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import aiosqlite

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
from bms.history._reader import missing
from bms.history._schema import Tier
from bms.history._series import PointSummary, RawSample, Series

T = TypeVar("T")


class AsyncHistoryReader:
    """Reads history.db at ``path`` from asyncio; same methods as :class:`HistoryReader`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._lock: asyncio.Lock | None = None

    async def open(self) -> AsyncHistoryReader:
        """Connect and check the schema (idempotent)."""
        await self._connection()
        return self

    async def raw(self, point_id: str, start: float, end: float, limit: int | None = None) -> list[RawSample]:
        return await self._run(raw_plan(point_id, start, end, limit))

    async def rollup(self, point_id: str, start: float, end: float, tier: Tier | None = None,
                     limit: int | None = None) -> Series:
        return await self._run(series_plan(point_id, start, end, tier, limit))

    async def last(self, point_id: str, n: int = 1) -> list[RawSample]:
        return await self._run(last_plan(point_id, n))

    async def points(self) -> list[PointSummary]:
        return await self._run(points_plan())

    async def csv(self, point_id: str, start: float, end: float, tier: Tier | None = None) -> AsyncIterator[str]:
        """Header and lines as CSV, a page of rows at a time."""
        chosen = await self._run(tier_plan(point_id, start, end, tier))
        yield header(chosen)
        at: float | None = start
        while at is not None:
            rows = await self._fetch(page_query(point_id, chosen, at, end))
            for line in page_lines(chosen, rows):
                yield line
            at = next_start(chosen, rows)

    async def close(self) -> None:
        """Close the connection and stop its thread (idempotent)."""
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def __aenter__(self) -> AsyncHistoryReader:
        return await self.open()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def _connection(self) -> aiosqlite.Connection:
        if self._db is not None:
            return self._db
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._db is None:
                self._db = await self._connect()
            return self._db

    async def _connect(self) -> aiosqlite.Connection:
        if not self.path.is_file():
            raise missing(self.path)
        try:
            db = await aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open database: {err}") from err
        try:
            await db.execute("PRAGMA busy_timeout=5000")
            await self._drive(db, check_plan(str(self.path)))
        except BaseException:
            await db.close()
            raise
        return db

    async def _fetch(self, query: Query, db: aiosqlite.Connection | None = None) -> Rows:
        conn = db if db is not None else await self._connection()
        try:
            return list(await conn.execute_fetchall(*query))
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot read history: {err}") from err

    async def _run(self, plan: Generator[Query, Rows, T]) -> T:
        return await self._drive(await self._connection(), plan)

    async def _drive(self, db: aiosqlite.Connection, plan: Generator[Query, Rows, T]) -> T:
        try:
            query = next(plan)
            while True:
                query = plan.send(await self._fetch(query, db))
        except StopIteration as stop:
            result: T = stop.value
            return result
