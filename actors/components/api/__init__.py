"""The local HTTP API as a platform component.

Two supervised actors: ``stream``, the hub that feeds the live streams, and
``api``, which serves :mod:`bms.api` over uvicorn and writes ``daemon.json``.
Settings come from ``[api]`` (host, port, max_body_bytes); ``--api-port``
(``Platform.api_port``) overrides the port, 0 picking a free one.
"""

from __future__ import annotations

from actors._supervisor import ChildSpec
from actors.components.api._gateway import ActorGateway
from actors.components.api._http import HttpServer
from actors.components.api._hub import CloseFeed, OpenFeed, StreamHub
from actors.components.api._server import ApiServer, load_token
from actors.platform import Platform, component


@component(60, "api")
def api_components(platform: Platform) -> list[ChildSpec]:
    """The stream hub, then the API server that uses it."""
    api = platform.settings.api
    port = api.port if platform.api_port is None else platform.api_port
    return [
        ChildSpec("stream", StreamHub),
        ChildSpec("api", ApiServer, kwargs={
            "host": api.host, "port": port, "max_body_bytes": api.max_body_bytes,
            "data_dir": platform.data_dir, "scenario": str(platform.site.path),
        }),
    ]


__all__ = ["ActorGateway", "ApiServer", "CloseFeed", "HttpServer", "OpenFeed", "StreamHub", "api_components",
           "load_token"]
