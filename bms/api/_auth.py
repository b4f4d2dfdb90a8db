"""Bearer-token check on every route except the OpenAPI document."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

from bms.api._wire import OPENAPI_PATH

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def token_guard(token: str) -> Guard:
    """A Litestar guard accepting ``Authorization: Bearer <token>`` (async: Litestar runs
    a sync guard on a worker thread, a hop per request)."""
    expected = token.encode()

    async def require_token(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        if connection.scope["path"] == OPENAPI_PATH:
            return
        header = connection.headers.get("authorization")
        if not header:
            raise NotAuthorizedException("missing bearer token: send 'Authorization: Bearer <token>'")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise NotAuthorizedException("invalid bearer token")

    return require_token
