"""The auth component's messages (asks to the ``auth`` service) and replies, also the API's wire form.

Every ask carries what it needs; the service answers the reply Struct or
refuses (NotAuthenticated, PermissionDenied, NotFound, Conflict, ConfigError).
"""

from __future__ import annotations

import msgspec

from bms.auth._roles import Identity, Role
from bms.messages import Message


class UserView(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str
    role: str
    disabled: bool = False
    created: float = 0.0
    has_password: bool = False


class TokenInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    user: str
    name: str
    created: float
    expires: float | None = None
    last_used: float | None = None
    revoked: float | None = None


class NewToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A token as created: ``token`` is shown this once and never stored."""

    token: str
    info: TokenInfo


class UserDetail(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    user: UserView
    role: Role
    tokens: tuple[TokenInfo, ...] = ()


# --------------------------------------------------------------- asks
class Authenticate(Message, frozen=True):
    token: str


class Login(Message, frozen=True):
    user: str
    password: str
    address: str = ""


class AddUser(Message, frozen=True):
    name: str
    role: str
    password: str | None = None


class ListUsers(Message, frozen=True):
    pass


class ShowUser(Message, frozen=True):
    name: str


class SetPassword(Message, frozen=True):
    name: str
    password: str


class DisableUser(Message, frozen=True):
    name: str
    disabled: bool = True


class SetRole(Message, frozen=True):
    name: str
    role: str


class CreateToken(Message, frozen=True):
    user: str
    name: str
    expires_in: float | None = None  # seconds from now; None: never


class ListTokens(Message, frozen=True):
    user: str | None = None


class RevokeToken(Message, frozen=True):
    user: str
    name: str


class ListRoles(Message, frozen=True):
    pass


class ShowRole(Message, frozen=True):
    name: str


class AddRole(Message, frozen=True):
    name: str
    permissions: tuple[str, ...]
    max_priority: int = 16
    scope: str | None = None


ADMIN_ASKS: tuple[type[Message], ...] = (AddUser, ListUsers, ShowUser, SetPassword, DisableUser, SetRole,
                                         CreateToken, ListTokens, RevokeToken, ListRoles, ShowRole, AddRole)
MESSAGES: tuple[type[Message], ...] = (Authenticate, Login, *ADMIN_ASKS)

__all__ = ["Identity", "Role"]
