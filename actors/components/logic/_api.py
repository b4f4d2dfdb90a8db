"""The logic engine's slice of the API: ``/api/logic`` (reading needs ``read``; enabling and disabling ``logic``)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Protocol

import msgspec
from litestar import Request, Router, get, post
from litestar.params import Body, Parameter
from litestar.response import Stream

from actors.components.logic._engine import CloseLogicFeed, OpenLogicFeed
from bms.alarms._feed import AlarmFeed
from bms.api.routing import Services, error_responses, feed_events, identity_of, requires
from bms.logic import Trace
from bms.logic.messages import (
    BundleVersion,
    DeployBundle,
    DisableProgram,
    EnableProgram,
    EngineStatus,
    GetEngineStatus,
    GetProgram,
    ListPrograms,
    ListVersions,
    ProgramTraces,
    ProgramView,
    ReloadLogic,
    RollbackBundle,
    StartLogic,
    StopLogic,
)

SERVICE = "logic"
KEEPALIVE_S = 15.0
Name = Annotated[str, Parameter(description="the program's name, e.g. vav101-zone")]


class LogicGateway(Protocol):
    async def ask(self, message: Any) -> Any: ...


class ServicesLogic:
    """The gateway over the running site: the ``logic`` service."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def ask(self, message: Any) -> Any:
        return await self.services.ask(SERVICE, message)


class DeployBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A signed bundle (``bms logic bundle build``), base64 in JSON."""

    bundle: bytes


def logic_router(gateway: LogicGateway) -> Router:
    @get("/status", operation_id="logicStatus", **requires("read"), responses=error_responses(503))
    async def status() -> EngineStatus:
        """The engine: scheduler (running, or stopped and by whom), the active bundle's version (or the program
        directory), its health and its programs."""
        view: EngineStatus = await gateway.ask(GetEngineStatus())
        return view

    @get("/health", operation_id="logicHealth", **requires("read"), responses=error_responses(503))
    async def health() -> EngineStatus:
        """The engine's health and scheduler state, without the programs."""
        view: EngineStatus = await gateway.ask(GetEngineStatus())
        return msgspec.structs.replace(view, programs=[])

    @post("/start", operation_id="startLogic", **requires("logic"), status_code=200, responses=error_responses(503))
    async def start(request: Request[Any, Any, Any]) -> EngineStatus:
        """Run the programs again after a stop (audited)."""
        view: EngineStatus = await gateway.ask(StartLogic(user=identity_of(request).user))
        return view

    @post("/stop", operation_id="stopLogic", **requires("logic"), status_code=200, responses=error_responses(503))
    async def stop(request: Request[Any, Any, Any]) -> EngineStatus:
        """Stop running every program, until started again (kept across restarts; audited). Outputs hold."""
        view: EngineStatus = await gateway.ask(StopLogic(user=identity_of(request).user))
        return view

    @post("/reload", operation_id="reloadLogic", **requires("logic"), status_code=200,
          responses=error_responses(400, 503))
    async def reload(request: Request[Any, Any, Any]) -> EngineStatus:
        """Read the program directory (or the active bundle) again and run what it holds (audited)."""
        view: EngineStatus = await gateway.ask(ReloadLogic(user=identity_of(request).user))
        return view

    @get("/stream", operation_id="logicStream", **requires("read"), media_type="text/event-stream",
         responses=error_responses(503))
    async def stream() -> Stream:
        """Live LogicEvent (Server-Sent Events): each run, failed run, write, fault and engine start, stop and
        reload, as it happens."""
        feed = AlarmFeed(asyncio.get_running_loop())
        await gateway.ask(OpenLogicFeed(feed))
        return Stream(feed_events(feed, lambda: gateway.ask(CloseLogicFeed(feed)), KEEPALIVE_S), media_type="text/event-stream",
                      headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @get("/bundles", operation_id="logicVersions", **requires("read"), responses=error_responses(503))
    async def versions() -> list[BundleVersion]:
        """The deployed bundles, oldest first: version, signer's key, who and when, active, failed."""
        return list(await gateway.ask(ListVersions()))

    @post("/bundles", operation_id="deployLogicBundle", **requires("logic"), status_code=200,
          responses=error_responses(400, 413, 503))
    async def deploy(request: Request[Any, Any, Any], data: Annotated[DeployBody, Body()]) -> BundleVersion:
        """Deploy a bundle: verified against the site's trusted keys, validated against its points and
        dry-run, then its programs replace the running set."""
        view: BundleVersion = await gateway.ask(DeployBundle(data=data.bundle, user=identity_of(request).user))
        return view

    @post("/bundles/rollback", operation_id="rollbackLogicBundle", **requires("logic"), status_code=200,
          responses=error_responses(400, 503))
    async def rollback(request: Request[Any, Any, Any]) -> BundleVersion:
        """Back to the bundle deployed before the active one."""
        view: BundleVersion = await gateway.ask(RollbackBundle(user=identity_of(request).user))
        return view

    @get("/", operation_id="listPrograms", **requires("read"), responses=error_responses(503))
    async def list_programs() -> list[ProgramView]:
        """The logic programs with their state, triggers, last run and error count."""
        return list(await gateway.ask(ListPrograms()))

    @get("/{name:str}", operation_id="getProgram", **requires("read"), responses=error_responses(404, 503))
    async def program(name: Name) -> ProgramView:
        """One program: state (running, disabled, faulted, with the reason), triggers, points, runs."""
        view: ProgramView = await gateway.ask(GetProgram(name=name))
        return view

    @get("/{name:str}/trace", operation_id="programTrace", **requires("read"), responses=error_responses(404, 503))
    async def trace(name: Name, limit: Annotated[int, Parameter(description="at most this many runs (the last)",
                                                               ge=1, le=10_000)] = 10) -> list[Trace]:
        """The program's last runs: inputs read, each block's output, writes, duration, error."""
        return list(await gateway.ask(ProgramTraces(name=name, limit=limit)))

    @post("/{name:str}/enable", operation_id="enableProgram", **requires("logic"), status_code=200,
          responses=error_responses(404, 503))
    async def enable(request: Request[Any, Any, Any], name: Name) -> ProgramView:
        """Run a disabled or faulted program again."""
        view: ProgramView = await gateway.ask(EnableProgram(name=name, user=identity_of(request).user))
        return view

    @post("/{name:str}/disable", operation_id="disableProgram", **requires("logic"), status_code=200,
          responses=error_responses(404, 503))
    async def disable(request: Request[Any, Any, Any], name: Name) -> ProgramView:
        """Stop running a program; its outputs hold their last value."""
        view: ProgramView = await gateway.ask(DisableProgram(name=name, user=identity_of(request).user))
        return view

    return Router("/api/logic", route_handlers=[status, health, start, stop, reload, stream, versions, deploy, rollback,
                                                list_programs, program, trace, enable, disable],
                  tags=["logic"])
