"""Site health and the daemon's log level."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get, post
from litestar.params import Body

from bms.api._auth import requires
from bms.api._errors import error_responses
from bms.api._gateway import Gateway
from bms.api._wire import HealthReport, LogLevelBody, LogLevelSet


def system_router(gateway: Gateway) -> Router:
    @get("/health", operation_id="health", **requires("read"), responses=error_responses())
    async def health() -> HealthReport:
        """The site's overall status and every component's health."""
        return await gateway.health()

    @post("/log-level", operation_id="setLogLevel", **requires("system"), status_code=200, responses=error_responses())
    async def set_log_level(data: Annotated[LogLevelBody, Body()]) -> LogLevelSet:
        """Switch the daemon's log level (the shell's ``debug on|off``)."""
        await gateway.set_log_level(data.level)
        return LogLevelSet(level=data.level)

    return Router("/api", route_handlers=[health, set_log_level], tags=["system"])
