"""``ApiServer``: the actor that owns the local HTTP API.

``setup()`` starts uvicorn on its own thread with the app of
:func:`bms.api.create_app` over an :class:`ActorGateway`, and records where
it listens in ``daemon.json``. Each request is authenticated by the ``auth``
service (:class:`ServicesAuthenticator`) and each state-changing request
recorded by the ``audit`` service before it is answered
(:class:`~actors.components.audit.ActorAuditor`; none when ``[audit]
enabled = false``).
``teardown()`` ends the live streams, stops uvicorn and joins its threads.
The actor itself handles no messages: the gateway asks the other actors
from the server's threads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from actors._base import BmsActor
from actors._context import Context
from actors._supervisor import ChildSpec
from actors.components.api._gateway import ASK_TIMEOUT, ActorGateway
from actors.components.api._http import HttpServer
from actors.components.api._hub import StreamHub
from actors.components.audit._auditor import ActorAuditor
from bms import __version__
from bms.api import Services, create_app
from bms.auth import Identity
from bms.auth.messages import Authenticate
from bms.daemon import DaemonInfo, write_daemon_info
from bms.errors import DaemonError, NotFound
from bms.ports import Endpoint

if TYPE_CHECKING:
    from litestar import Router

    from actors.platform import Platform

HISTORY_DB = "history.db"


def api_components(platform: Platform) -> list[ChildSpec]:
    """The stream hub, then the API server that uses it, with every component's slice of the API."""
    api = platform.section("api")
    port = api.port if platform.api_port is None else platform.api_port
    try:
        audited = bool(platform.section("audit").enabled)
    except NotFound:  # the audit component is not installed
        audited = False
    return [
        ChildSpec("stream", StreamHub),
        ChildSpec("api", ApiServer, kwargs={
            "host": api.host, "port": port, "max_body_bytes": api.max_body_bytes,
            "data_dir": platform.data_dir, "scenario": str(platform.site.path),
            "slices": [c.api for c in platform.components or () if c.api is not None], "audited": audited,
        }),
    ]


def api_endpoints(platform: Platform) -> list[Endpoint]:
    """The API's address (none when the port is 0: a free one is picked)."""
    api = platform.section("api")
    port = api.port if platform.api_port is None else platform.api_port
    return [Endpoint(api.host, port, "tcp")] if port else []


class ServicesAuthenticator:
    """Who holds a token: the ``auth`` service's answer."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def authenticate(self, token: str) -> Identity:
        who: Identity = await self.services.ask("auth", Authenticate(token=token))
        return who


class ApiServer(BmsActor):
    """Serves the local API on ``host:port`` (0 = a free port) for the data directory."""

    def __init__(self, name: str, ctx: Context, *, host: str, port: int, max_body_bytes: int, data_dir: Path,
                 scenario: str = "", ask_timeout: float = ASK_TIMEOUT,
                 slices: Sequence[Callable[[Services], Router]] = (), audited: bool = True) -> None:
        super().__init__(name, ctx)
        self.audited = audited
        self.slices = tuple(slices)
        self.ask_timeout = ask_timeout
        self.host, self.port, self.max_body_bytes = host, port, max_body_bytes
        self.data_dir = data_dir
        self.scenario = scenario
        self.server: HttpServer | None = None
        self.gateway: ActorGateway | None = None

    def setup(self) -> None:
        self.gateway = ActorGateway(self.ctx, self.data_dir / HISTORY_DB, timeout=self.ask_timeout)
        catalog = self.ctx.catalog
        if not self.audited:
            self.log.warning("audit log disabled: state changes are recorded nowhere")
        app = create_app(self.gateway, ServicesAuthenticator(self.gateway), self.max_body_bytes,
                         routers=[make(self.gateway) for make in self.slices],
                         message_schemas=catalog.schemas() if catalog is not None else None,
                         auditor=ActorAuditor(self.ctx, self.ask_timeout) if self.audited else None)
        self.server = HttpServer(app, self.host, self.port)
        try:
            self.server.start()
        except DaemonError:
            self.gateway.shutdown()
            self.server = self.gateway = None
            raise
        write_daemon_info(self.data_dir, DaemonInfo(
            pid=os.getpid(), api_url=self.server.url, started=time.time(), version=__version__,
            scenario=self.scenario,
        ))
        self.log.info("api listening", url=self.server.url)

    def teardown(self) -> None:
        server, gateway = self.server, self.gateway
        self.server = self.gateway = None
        if server is not None:
            server.stop(before_stop=gateway.end_streams if gateway is not None else None)
            if server.running:
                self.log.error("api server thread did not stop", url=server.url)
        if gateway is not None:
            gateway.shutdown()
