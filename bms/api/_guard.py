"""The access guard of every route (see :mod:`bms.api._auth`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from bms.api._auth import PERMISSION, PUBLIC, Authenticator
from bms.api._wire import OPENAPI_PATH
from bms.auth._roles import Identity
from bms.errors import NotAuthenticated

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    """The caller the guard let through."""
    who = connection.scope.get("user")
    assert isinstance(who, Identity), "route reached without the access guard"
    return who


def access_guard(authenticator: Authenticator) -> Guard:
    """The guard of every route (async: Litestar runs a sync guard on a worker thread, a hop per request)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if connection.scope["path"] == OPENAPI_PATH or handler.opt.get(PUBLIC):
            return
        header = connection.headers.get("authorization")
        if not header:
            raise NotAuthorizedException("missing bearer token: send 'Authorization: Bearer <token>'")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise NotAuthorizedException("invalid bearer token")
        try:
            identity = await authenticator.authenticate(given.strip())
        except NotAuthenticated as err:
            raise NotAuthorizedException(str(err)) from None
        connection.scope["user"] = identity
        needed = handler.opt.get(PERMISSION)
        if not needed:
            raise PermissionDeniedException(f"{connection.scope['path']} declares no permission: refused to all")
        if not identity.may(needed):
            raise PermissionDeniedException(
                f"user {identity.user!r} (role {identity.role.name}) lacks the permission {needed!r}")

    return guard
