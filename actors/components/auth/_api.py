"""The auth component's slice of the API: login, who am I, users, tokens and roles.

A user may read itself, change its own password and manage its own tokens
with no more than the permission ``read``; anything about another user, and
every change of users and roles, needs ``users``. A new token's secret is in
the reply only, never in the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get, post
from litestar.params import Body, Parameter

from bms.api.routing import Services, error_responses, identity_of, note, public, requires
from bms.auth import Identity, Role
from bms.auth.messages import (
    AddRole,
    AddUser,
    CreateToken,
    DisableUser,
    ListRoles,
    ListTokens,
    ListUsers,
    Login,
    NewToken,
    RevokeToken,
    SetPassword,
    SetRole,
    ShowRole,
    ShowUser,
    TokenInfo,
    UserDetail,
    UserView,
)
from bms.errors import PermissionDenied

SERVICE = "auth"
UserName = Annotated[str, Parameter(description="a user name")]
TokenName = Annotated[str, Parameter(description="a token's name")]
RoleName = Annotated[str, Parameter(description="a role's name")]
Owner = Annotated[str | None, Parameter(description="whose tokens (default: yours; '*': everyone's)")]
AnyRequest = Request[Any, Any, Any]


class LoginBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    user: str
    password: str


class UserBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    role: str
    password: str | None = None


class PasswordBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    password: str


class RoleChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: str


class DisableBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    disabled: bool = True


class TokenBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    user: str | None = None  # default: the caller
    expires_in: float | None = None  # seconds; None: never


class RoleBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    permissions: tuple[str, ...]
    max_priority: int = 16
    scope: str | None = None


def _self_or_users(who: Identity, user: str) -> None:
    if user != who.user and not who.may("users"):
        raise PermissionDenied(f"user {who.user!r} (role {who.role.name}) may only manage itself, not {user!r}")


def auth_router(services: Services) -> Router:
    async def ask(message: Any) -> Any:
        return await services.ask(SERVICE, message)

    @post("/login", operation_id="login", **public(), status_code=200, responses=error_responses(429, 503))
    async def login(request: AnyRequest, data: Annotated[LoginBody, Body()]) -> NewToken:
        """A short-lived token for a user and password (no bearer token needed). Failed logins are
        rate-limited per user and address, then locked out for a while (429); every attempt is audited."""
        note(request.scope, user=data.user, target=data.user)
        address = request.client.host if request.client else ""
        made: NewToken = await ask(Login(user=data.user, password=data.password, address=address))
        note(request.scope, after={"token": made.info.name, "expires": made.info.expires})
        return made

    @get("/whoami", operation_id="whoami", **requires("read"), responses=error_responses())
    async def whoami(request: AnyRequest) -> Identity:
        """The caller: user, token name and role."""
        return identity_of(request)

    @get("/users", operation_id="listUsers", **requires("users"), responses=error_responses(503))
    async def users() -> list[UserView]:
        """Every user, with role and state."""
        return list(await ask(ListUsers()))

    @post("/users", operation_id="addUser", **requires("users"), status_code=200,
          responses=error_responses(404, 409, 503))
    async def add_user(request: AnyRequest, data: Annotated[UserBody, Body()]) -> UserView:
        """Add a user with a role (and a password, for logins)."""
        note(request.scope, target=data.name, after={"role": data.role, "password": data.password is not None})
        made: UserView = await ask(AddUser(name=data.name, role=data.role, password=data.password))
        return made

    @get("/users/{name:str}", operation_id="showUser", **requires("read"), responses=error_responses(404, 503))
    async def show_user(request: AnyRequest, name: UserName) -> UserDetail:
        """A user, its role and its tokens (yourself, or anyone with the permission users)."""
        _self_or_users(identity_of(request), name)
        found: UserDetail = await ask(ShowUser(name=name))
        return found

    @post("/users/{name:str}/password", operation_id="setPassword", **requires("read"), status_code=200,
          responses=error_responses(404, 503))
    async def set_password(request: AnyRequest, name: UserName, data: Annotated[PasswordBody, Body()]) -> UserView:
        """Set a user's password (your own, or anyone's with the permission users)."""
        _self_or_users(identity_of(request), name)
        done: UserView = await ask(SetPassword(name=name, password=data.password))
        return done

    @post("/users/{name:str}/disable", operation_id="disableUser", **requires("users"), status_code=200,
          responses=error_responses(404, 503))
    async def disable(request: AnyRequest, name: UserName, data: Annotated[DisableBody | None, Body()] = None) -> UserView:
        """Disable a user (its tokens stop working at once), or enable it again (``disabled`` false)."""
        body = data or DisableBody()
        note(request.scope, after={"disabled": body.disabled})
        done: UserView = await ask(DisableUser(name=name, disabled=body.disabled))
        return done

    @post("/users/{name:str}/role", operation_id="setRole", **requires("users"), status_code=200,
          responses=error_responses(404, 503))
    async def set_role(request: AnyRequest, name: UserName, data: Annotated[RoleChange, Body()]) -> UserView:
        """Give a user another role."""
        before: UserDetail = await ask(ShowUser(name=name))
        note(request.scope, before={"role": before.user.role}, after={"role": data.role})
        done: UserView = await ask(SetRole(name=name, role=data.role))
        return done

    @get("/tokens", operation_id="listTokens", **requires("read"), responses=error_responses(503))
    async def tokens(request: AnyRequest, user: Owner = None) -> list[TokenInfo]:
        """Tokens of a user (default: yours; everyone's with ``user=*`` and the permission users)."""
        who = identity_of(request)
        wanted = who.user if user is None else user
        _self_or_users(who, wanted)
        return list(await ask(ListTokens(user=None if wanted == "*" else wanted)))

    @post("/tokens", operation_id="createToken", **requires("read"), status_code=200,
          responses=error_responses(404, 409, 503))
    async def create_token(request: AnyRequest, data: Annotated[TokenBody, Body()]) -> NewToken:
        """A new token (shown this once), for yourself or, with the permission users, another user."""
        who = identity_of(request)
        user = data.user or who.user
        _self_or_users(who, user)
        note(request.scope, target=f"{user}/{data.name}", after={"expires_in": data.expires_in})
        made: NewToken = await ask(CreateToken(user=user, name=data.name, expires_in=data.expires_in))
        return made

    @post("/tokens/{user:str}/{name:str}/revoke", operation_id="revokeToken", **requires("read"), status_code=200,
          responses=error_responses(404, 503))
    async def revoke_token(request: AnyRequest, user: UserName, name: TokenName) -> TokenInfo:
        """Revoke a token (yours, or anyone's with the permission users): refused from now on."""
        _self_or_users(identity_of(request), user)
        done: TokenInfo = await ask(RevokeToken(user=user, name=name))
        return done

    @get("/roles", operation_id="listRoles", **requires("read"), responses=error_responses(503))
    async def roles() -> list[Role]:
        """The built-in roles and the custom ones."""
        return list(await ask(ListRoles()))

    @get("/roles/{name:str}", operation_id="showRole", **requires("read"), responses=error_responses(404, 503))
    async def show_role(name: RoleName) -> Role:
        """One role: its permissions, max priority and scope."""
        found: Role = await ask(ShowRole(name=name))
        return found

    @post("/roles", operation_id="addRole", **requires("users"), status_code=200,
          responses=error_responses(409, 503))
    async def add_role(request: AnyRequest, data: Annotated[RoleBody, Body()]) -> Role:
        """Add a custom role made of permissions, a max priority and an optional subtree."""
        note(request.scope, target=data.name, after={"permissions": sorted(data.permissions),
                                                      "max_priority": data.max_priority, "scope": data.scope})
        made: Role = await ask(AddRole(name=data.name, permissions=data.permissions,
                                       max_priority=data.max_priority, scope=data.scope))
        return made

    return Router("/api/auth", route_handlers=[login, whoami, users, add_user, show_user, set_password, disable,
                                               set_role, tokens, create_token, revoke_token, roles, show_role,
                                               add_role], tags=["auth"])
