"""The export targets' slice of the API: their status and backfills.

``export_router`` serves an :class:`ExportGateway`; the daemon's is
:class:`ServicesExport`, which asks the ``export`` board and the targets
(``export:NAME``).
"""

from __future__ import annotations

import difflib
import time
from typing import Annotated, Protocol

from litestar import Router, get, post
from litestar.params import Body, Parameter

from bms.api import parse_time
from bms.api.routing import Services, error_responses, requires
from bms.errors import ConfigError, NotFound
from bms.export import BackfillProgress, BackfillRequest, GetTargetStatus, ListTargets, StartBackfill, TargetStatus

BOARD = "export"

TargetName = Annotated[str, Parameter(description="an export target of [influx] or [postgres]", min_length=1,
                                      max_length=200)]


class ExportGateway(Protocol):
    async def targets(self) -> list[TargetStatus]: ...

    async def target(self, name: str) -> TargetStatus: ...

    async def backfill(self, name: str, command: StartBackfill) -> BackfillProgress: ...


class ServicesExport:
    """The gateway over the running site: the ``export`` board and the ``export:NAME`` targets."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def targets(self) -> list[TargetStatus]:
        return list(await self.services.ask(BOARD, ListTargets()))

    async def _known(self, name: str) -> None:
        names = [t.name for t in await self.targets()]
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else (f"; targets: {', '.join(names)}" if names else
                                                                     "; none is configured")
            raise NotFound(f"no export target named {name!r}{hint}")

    async def target(self, name: str) -> TargetStatus:
        await self._known(name)
        status: TargetStatus = await self.services.ask(f"export:{name}", GetTargetStatus())
        return status

    async def backfill(self, name: str, command: StartBackfill) -> BackfillProgress:
        await self._known(name)
        progress: BackfillProgress = await self.services.ask(f"export:{name}", command, 30.0)
        return progress


def _time(name: str, text: str, now: float) -> float:
    try:
        return parse_time(text, now)
    except ConfigError as err:
        raise ConfigError(f"{name}: {err}") from None


def export_router(gateway: ExportGateway) -> Router:
    @get("/", operation_id="listExportTargets", **requires("read"), responses=error_responses(503))
    async def targets() -> list[TargetStatus]:
        """Every export target: state (idle, live, catching up, backfilling, error with its reason), rows
        buffered on disk and the age of the oldest, rows/s written, the backfill's progress."""
        return await gateway.targets()

    @get("/{target:str}", operation_id="getExportTarget", **requires("read"), responses=error_responses(404, 503))
    async def target(target: TargetName) -> TargetStatus:
        """One export target's status, fresh from the target."""
        return await gateway.target(target)

    @post("/{target:str}/backfill", operation_id="startExportBackfill", **requires("integrations"), status_code=202,
          responses=error_responses(400, 404, 503))
    async def backfill(target: TargetName, data: Annotated[BackfillRequest, Body()]) -> BackfillProgress:
        """Send recorded history from ``since`` to ``until`` to the target, in the background. A backfill that
        has not finished (running, or interrupted by a stop) goes on instead, on its own range, and the answer
        says ``resumed``; ``restart`` ends it and starts this range. Rows the target already has are not
        duplicated."""
        now = time.time()
        start = _time("since", data.since, now)
        end = now if data.until is None else _time("until", data.until, now)
        if end <= start:
            raise ConfigError(f"since ({data.since}) is not before until ({data.until or 'now'})")
        return await gateway.backfill(target, StartBackfill(since=start, until=end, restart=data.restart))

    return Router("/api/export", route_handlers=[targets, target, backfill], tags=["export"])
