"""Recorded history of a point: samples, rollups, CSV (streamed)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Annotated

from litestar import Router, get
from litestar.params import Parameter
from litestar.response import Stream

from bms.api._auth import requires
from bms.api._errors import error_responses
from bms.api._gateway import Gateway
from bms.api._params import Device, Key
from bms.api._timespec import parse_time
from bms.api._wire import HistorySeries, Rollup
from bms.errors import ConfigError
from bms.messages import QueryHistory

StartQuery = Annotated[str, Parameter(description="epoch seconds, now, -1h, -1h30m or ISO 8601")]
EndQuery = Annotated[str, Parameter(description="epoch seconds, now, -15m or ISO 8601")]
RollupQuery = Annotated[Rollup, Parameter(description="raw samples, a rollup tier, or auto (by span)")]
LimitQuery = Annotated[int | None, Parameter(ge=1, le=1_000_000, description="at most this many samples")]


def history_query(point_id: str, start: str, end: str, rollup: str, limit: int | None, now: float) -> QueryHistory:
    """The query for a point over ``[start, end)``, with the times parsed."""
    try:
        t0 = parse_time(start, now)
    except ConfigError as err:
        raise ConfigError(f"start: {err}") from None
    try:
        t1 = parse_time(end, now)
    except ConfigError as err:
        raise ConfigError(f"end: {err}") from None
    if t1 < t0:
        raise ConfigError(f"start ({start}) is after end ({end})")
    return QueryHistory(point_id=point_id, start=t0, end=t1, rollup=None if rollup == "raw" else rollup, limit=limit)


async def first_rows(lines: AsyncGenerator[str, None], limit: int) -> AsyncGenerator[str, None]:
    """The header and the first ``limit`` rows of a CSV stream; the rest is never read."""
    try:
        taken = -1  # the header is not a row
        async for line in lines:
            yield line
            taken += 1
            if taken >= limit:
                return
    finally:
        await lines.aclose()


def history_router(gateway: Gateway, now: Callable[[], float]) -> Router:
    @get("/{device:str}/{key:str}", operation_id="history", **requires("read"), responses=error_responses(404, 503))
    async def series(device: Device, key: Key, start: StartQuery = "-1h", end: EndQuery = "now",
                     rollup: RollupQuery = "raw", limit: LimitQuery = None) -> HistorySeries:
        """A point's samples (``rollup=raw``) or rollup buckets over [start, end)."""
        return await gateway.history(history_query(f"{device}/{key}", start, end, rollup, limit, now()))

    @get("/{device:str}/{key:str}/csv", operation_id="historyCsv", **requires("read"), media_type="text/csv",
         responses=error_responses(404, 503))
    async def as_csv(device: Device, key: Key, start: StartQuery = "-1h", end: EndQuery = "now",
                     rollup: RollupQuery = "raw", limit: LimitQuery = None) -> Stream:
        """The same history as CSV with a header row (``time,ts,value`` or
        ``time,ts,avg,min,max,last,count``), streamed, so any range fits."""
        point_id = f"{device}/{key}"
        lines = await gateway.history_csv(history_query(point_id, start, end, rollup, limit, now()))
        filename = point_id.replace("/", "_") + ".csv"
        return Stream(lines if limit is None else first_rows(lines, limit), media_type="text/csv",
                      headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return Router("/api/history", route_handlers=[series, as_csv], tags=["history"])
