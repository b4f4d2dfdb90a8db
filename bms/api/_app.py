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
from bms.api._audit import Auditor, audit_hook
from bms.api._auth import PUBLIC, Authenticator, StaticToken
from bms.api._errors import error, http_error_handler, on_bms_error, on_unexpected
from bms.api._gateway import Gateway
from bms.api._guard import access_guard
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
    auth: str | Authenticator,
    max_body_bytes: int,
    *,
    keepalive: float = 15.0,
    now: Callable[[], float] = time.time,
    routers: Sequence[Router] = (),
    message_schemas: Mapping[str, Any] | None = None,
    auditor: Auditor | None = None,
) -> Litestar:
    """See :func:`bms.api.create_app`."""
    authenticator = StaticToken(auth) if isinstance(auth, str) else auth

    async def release_gateway() -> None:
        await gateway.aclose()

    app = Litestar(
        route_handlers=[
            system_router(gateway),
            nodes_router(gateway),
            points_router(gateway, before=auditor is not None),
            history_router(gateway, now),
            stream_router(gateway, keepalive),
            *routers,
        ],
        guards=[access_guard(authenticator)],
        before_send=[audit_hook(auditor, now)] if auditor is not None else [],
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
    _public_operations(app)
    if message_schemas:
        add_schemas(app.openapi_schema, message_schemas)
    return app


def _openapi() -> OpenAPIConfig:
    # The document is served at exactly OPENAPI_PATH; the router Litestar adds
    # around it answers other paths with an HTML 404, made JSON here.
    return OpenAPIConfig(
        title="bms local API",
        version=__version__,
        description="The daemon's local API. Every route but this document and the login needs "
        "'Authorization: Bearer <token>' (the local admin's token is in <data dir>/api.token); the scope of "
        "each operation's bearer requirement is the permission it needs. Every request that changes state is "
        "in the audit log before it is answered. Errors are {\"error\": \"...\"}.",
        use_handler_docstrings=True,
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"bearer": []}],
        render_plugins=[JsonRenderPlugin(path=OPENAPI_PATH.removeprefix("/api"))],
        openapi_router=Router("/api", route_handlers=[], after_request=_json_not_found, include_in_schema=False,
                              opt={PUBLIC: True}),  # the document, and the JSON 404 of unknown paths
    )


async def _json_not_found(response: Response[Any]) -> Response[Any]:
    if response.status_code == 404 and response.media_type != "application/json":
        return error(404, "no such endpoint")
    return response


def _public_operations(app: Litestar) -> None:
    """Operations that take no token say so in the document (``security: []``)."""
    paths = app.openapi_schema.paths or {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not handler.opt.get(PUBLIC):
                continue
            item = paths.get(route.path)
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None) if item is not None else None
                if operation is not None:
                    operation.security = []
