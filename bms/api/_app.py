"""The Litestar application: routers, token guard, error handlers, OpenAPI."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from litestar import Litestar, Response, Router
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from bms import __version__
from bms.api._auth import token_guard
from bms.api._errors import error, http_error_handler, on_bms_error, on_unexpected
from bms.api._gateway import Gateway
from bms.api._history import history_router
from bms.api._nodes import nodes_router
from bms.api._points import points_router
from bms.api._schema import StrictStructSchema, add_schemas, optional_bodies
from bms.api._stream import stream_router
from bms.api._strict import strict_input
from bms.api._system import system_router
from bms.api._wire import OPENAPI_PATH
from bms.errors import BmsError


def build_app(
    gateway: Gateway,
    token: str,
    max_body_bytes: int,
    *,
    keepalive: float = 15.0,
    now: Callable[[], float] = time.time,
    routers: Sequence[Router] = (),
    message_schemas: Mapping[str, Any] | None = None,
) -> Litestar:
    """See :func:`bms.api.create_app`."""

    async def release_gateway() -> None:
        await gateway.aclose()

    app = Litestar(
        route_handlers=[
            system_router(gateway),
            nodes_router(gateway),
            points_router(gateway),
            history_router(gateway, now),
            stream_router(gateway, keepalive),
            *routers,
        ],
        guards=[token_guard(token)],
        before_request=strict_input,  # bodies and queries exactly their types, bodies not too deep
        exception_handlers={
            HTTPException: http_error_handler(max_body_bytes),
            BmsError: on_bms_error,
            Exception: on_unexpected,
        },
        request_max_body_size=max_body_bytes,
        openapi_config=_openapi(),
        plugins=[StrictStructSchema()],
        on_shutdown=[release_gateway],
        logging_config=None,
        debug=False,
    )
    optional_bodies(app.openapi_schema)
    if message_schemas:
        add_schemas(app.openapi_schema, message_schemas)
    return app


def _openapi() -> OpenAPIConfig:
    # The document is served at exactly OPENAPI_PATH; the router Litestar adds
    # around it answers other paths with an HTML 404, made JSON here.
    return OpenAPIConfig(
        title="bms local API",
        version=__version__,
        description="The daemon's local API. Every route but this document needs 'Authorization: Bearer <token>' "
        "(the token is in <data dir>/api.token). Errors are {\"error\": \"...\"}.",
        use_handler_docstrings=True,
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"bearer": []}],
        render_plugins=[JsonRenderPlugin(path=OPENAPI_PATH.removeprefix("/api"))],
        openapi_router=Router("/api", route_handlers=[], after_request=_json_not_found, include_in_schema=False),
    )


async def _json_not_found(response: Response[Any]) -> Response[Any]:
    if response.status_code == 404 and response.media_type != "application/json":
        return error(404, "no such endpoint")
    return response
