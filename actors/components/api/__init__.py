"""``api``: the local HTTP API and the live streams it feeds.

Two supervised actors: ``stream``, the hub that feeds the live streams, and
``api``, which serves :mod:`bms.api` over uvicorn (with every component's
own slice of the API, ``Component.api``) and writes ``daemon.json``.
Settings come from ``[api]`` (host, port, max_body_bytes); ``--api-port``
(``Platform.api_port``) overrides the port, 0 picking a free one.
"""

from __future__ import annotations

from actors.components import lazy, lazy_exports
from bms.components import ANY_OTHER, Component
from bms.config import ApiSection

COMPONENT = Component(
    name="api",
    children=lazy("actors.components.api._server", "api_components"),
    requires=("nodes", "points", "auth"),
    after=(ANY_OTHER,),  # the API opens once the services it answers from are up
    settings=ApiSection,
    endpoints=lazy("actors.components.api._server", "api_endpoints"),
    description="the local HTTP API (users' tokens, OpenAPI document) and its live streams",
)

__getattr__ = lazy_exports(__name__, {
    "ActorGateway": "._gateway", "ApiServer": "._server", "CloseFeed": "._hub", "HttpServer": "._http",
    "OpenFeed": "._hub", "StreamHub": "._hub", "api_components": "._server",
    "ServicesAuthenticator": "._server",
})
__all__ = ["COMPONENT", "ActorGateway", "ApiServer", "CloseFeed", "HttpServer",
           "OpenFeed", "ServicesAuthenticator", "StreamHub", "api_components"]
