"""Who is calling, and may they: the guard every route passes, and how a route declares its permission.

Every route declares the permission it needs with :func:`requires` (which
also puts it in the OpenAPI document, as the scope of the ``bearer``
requirement); a route that declares none is refused to everyone (403):
default deny. :func:`public` marks the few that need no token (the login).
The guard authenticates ``Authorization: Bearer <token>`` through an
:class:`Authenticator` (the ``auth`` service in the daemon) and leaves the
caller's :class:`~bms.auth.Identity` in ``scope["user"]`` (``request.user``).
The guard itself is in ``_guard.py`` (it imports Litestar; this module does not).
"""

from __future__ import annotations

import hmac
from typing import Any, Protocol

from bms.auth._roles import ADMIN, Identity
from bms.errors import NotAuthenticated

PERMISSION = "permission"
PUBLIC = "public"


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Identity:
        """The identity holding ``token``; raises NotAuthenticated (unknown, expired, revoked, disabled)."""
        ...


class StaticToken:
    """One token, the admin's (an app without users: tests, tools)."""

    def __init__(self, token: str, user: str = "api") -> None:
        self._expected = token.encode()
        self._identity = Identity(user=user, role=ADMIN, token="static")

    async def authenticate(self, token: str) -> Identity:
        if not hmac.compare_digest(token.encode(), self._expected):
            raise NotAuthenticated("invalid bearer token")
        return self._identity


def requires(permission: str) -> dict[str, Any]:
    """Keyword arguments of a route decorator declaring the permission it needs:
    ``@post("/x", **requires("devices"))``."""
    return {"opt": {PERMISSION: permission}, "security": [{"bearer": [permission]}]}


def public() -> dict[str, Any]:
    """Keyword arguments of a route that takes no token (it authenticates by itself: the login)."""
    return {"opt": {PUBLIC: True}}
