"""``bms user``, ``bms token`` and ``bms role``.

With a daemon on the data directory they go through its API (as the local
admin, BMS_TOKEN or ``bms --user NAME``: the daemon checks the permission
and audits the change); without one they work on ``users.db`` directly,
each change audited as the OS user, from ``cli``. A token is printed once,
when it is created.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from bms.audit import audited
from bms.auth import LOCAL_ADMIN, PERMISSION_HELP, PERMISSIONS, USERS_DB, Directory, Role, answer
from bms.auth.messages import (
    AddRole,
    AddUser,
    CreateToken,
    DisableUser,
    ListRoles,
    ListTokens,
    ListUsers,
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
from bms.cli._app import BmsGroup, console, print_json
from bms.cli._common import DURATION, connect, daemon_running, data_dir, data_option, json_option
from bms.cli._render import format_time
from bms.client import ApiClient

T = TypeVar("T")


@contextmanager
def _local(path: Path) -> Iterator[Directory]:
    directory = Directory(path / USERS_DB, time.time)
    try:
        yield directory
    finally:
        directory.close()


def _read(data: Path | None, message: Any, remote: Any) -> Any:
    """A read: the daemon's answer (``remote(client)``), else the directory's."""
    path = data_dir(data)
    if daemon_running(path):
        return remote(connect(data))
    with _local(path) as directory:
        return answer(directory, message)


def _change(data: Path | None, message: Any, remote: Any, action: str, target: str, after: Any = None) -> Any:
    """A change: through the daemon (which audits it), else on users.db, audited here."""
    path = data_dir(data)
    if daemon_running(path):
        return remote(connect(data))
    with audited(path, action, target) as change, _local(path) as directory:
        change.after = after
        return answer(directory, message)


def _password(name: str) -> str:
    return str(click.prompt(f"new password for {name}", hide_input=True, confirmation_prompt=True, err=True))


def _users_table(users: list[UserView]) -> Table:
    table = Table("user", "role", "password", "state")
    for u in users:
        table.add_row(u.name, u.role, "yes" if u.has_password else "no", "disabled" if u.disabled else "enabled")
    return table


def _tokens_table(tokens: list[TokenInfo] | tuple[TokenInfo, ...]) -> Table:
    table = Table("user", "token", "created", "expires", "last used", "revoked")
    for t in tokens:
        table.add_row(t.user, t.name, format_time(t.created), format_time(t.expires) if t.expires else "never",
                      format_time(t.last_used) if t.last_used else "-",
                      format_time(t.revoked) if t.revoked else "")
    return table


def _role_table(roles: list[Role]) -> Table:
    table = Table("role", "permissions", "max priority", "scope")
    for r in roles:
        table.add_row(r.name, ", ".join(p for p in PERMISSIONS if p in r.permissions), str(r.max_priority),
                      r.scope or "everywhere")
    return table


# ----------------------------------------------------------------- users
@click.group("user", cls=BmsGroup)
def user() -> None:
    """Users: add, list, show, passwd, disable, role."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="admin, operator, viewer or a custom role.")
@click.option("--no-password", is_flag=True, help="A user for tokens only (no login with a password).")
@data_option
@json_option
def add_user(name: str, role: str, no_password: bool, data: Path | None, as_json: bool) -> None:
    """Add user NAME with a role (prompts for its password)."""
    password = None if no_password else _password(name)
    made: UserView = _change(data, AddUser(name=name, role=role, password=password),
                             lambda c: c.post("/api/auth/users", UserView,
                                              {"name": name, "role": role, "password": password}),
                             "addUser", name, {"role": role, "password": password is not None})
    print_json(made) if as_json else console.print(f"user {made.name} added ({made.role})", highlight=False)


@user.command("list")
@data_option
@json_option
def list_users(data: Path | None, as_json: bool) -> None:
    """Every user, its role and state."""
    found: list[UserView] = _read(data, ListUsers(), lambda c: c.get("/api/auth/users", list[UserView]))
    print_json(found) if as_json else console.print(_users_table(found))


@user.command("show")
@click.argument("name")
@data_option
@json_option
def show_user(name: str, data: Path | None, as_json: bool) -> None:
    """A user, its role's permissions and its tokens."""
    found: UserDetail = _read(data, ShowUser(name=name), lambda c: c.get(f"/api/auth/users/{name}", UserDetail))
    if as_json:
        print_json(found)
        return
    console.print(_users_table([found.user]))
    console.print(_role_table([found.role]))
    if found.tokens:
        console.print(_tokens_table(found.tokens))


@user.command("passwd")
@click.argument("name")
@data_option
def passwd(name: str, data: Path | None) -> None:
    """Set user NAME's password (prompts for it twice)."""
    password = _password(name)
    _change(data, SetPassword(name=name, password=password),
            lambda c: c.post(f"/api/auth/users/{name}/password", UserView, {"password": password}),
            "setPassword", name)
    console.print(f"password of {name} changed", highlight=False)


@user.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the user again.")
@data_option
def disable_user(name: str, enable: bool, data: Path | None) -> None:
    """Disable user NAME: its tokens and password stop working at once (--enable: undo)."""
    done: UserView = _change(data, DisableUser(name=name, disabled=not enable),
                             lambda c: c.post(f"/api/auth/users/{name}/disable", UserView, {"disabled": not enable}),
                             "disableUser", name, {"disabled": not enable})
    console.print(f"user {done.name} {'disabled' if done.disabled else 'enabled'}", highlight=False)


@user.command("role")
@click.argument("name")
@click.argument("role_name", metavar="ROLE")
@data_option
def set_role(name: str, role_name: str, data: Path | None) -> None:
    """Give user NAME another ROLE."""
    done: UserView = _change(data, SetRole(name=name, role=role_name),
                             lambda c: c.post(f"/api/auth/users/{name}/role", UserView, {"role": role_name}),
                             "setRole", name, {"role": role_name})
    console.print(f"user {done.name} is now {done.role}", highlight=False)


# ---------------------------------------------------------------- tokens
@click.group("token", cls=BmsGroup)
def token() -> None:
    """API tokens: create, list, revoke."""


def _owner(client: ApiClient | None, given: str | None) -> str:
    if given:
        return given
    return client.whoami().user if client is not None else LOCAL_ADMIN


@token.command("create")
@click.argument("name")
@click.option("--for", "owner", metavar="USER", help="Whose token (default: yours; the local admin without a daemon).")
@click.option("--expires", type=DURATION, help="Lifetime, e.g. 90d (default: never).")
@data_option
@json_option
def create_token(name: str, owner: str | None, expires: float | None, data: Path | None, as_json: bool) -> None:
    """Create token NAME; it is shown this once."""
    path = data_dir(data)
    if daemon_running(path):
        client = connect(data)
        made: NewToken = client.post("/api/auth/tokens", NewToken, {"name": name, "user": owner,
                                                                     "expires_in": expires})
    else:
        who = _owner(None, owner)
        made = _change(data, CreateToken(user=who, name=name, expires_in=expires), None, "createToken",
                       f"{who}/{name}", {"expires_in": expires})
    if as_json:
        print_json(made)
        return
    console.print(f"token {made.info.name} of {made.info.user} (shown once, keep it safe):", highlight=False)
    click.echo(made.token)


@token.command("list")
@click.option("--for", "owner", metavar="USER", help="Whose tokens (default: yours); '*' for everyone's.")
@data_option
@json_option
def list_tokens(owner: str | None, data: Path | None, as_json: bool) -> None:
    """Tokens with their expiry, last use and revocation."""
    found: list[TokenInfo] = _read(
        data, ListTokens(user=None if owner == "*" else owner),
        lambda c: c.get("/api/auth/tokens", list[TokenInfo], {"user": owner}))
    print_json(found) if as_json else console.print(_tokens_table(found))


@token.command("revoke")
@click.argument("name")
@click.option("--for", "owner", metavar="USER", help="Whose token (default: yours; the local admin without a daemon).")
@data_option
def revoke_token(name: str, owner: str | None, data: Path | None) -> None:
    """Revoke token NAME: refused from now on."""
    path = data_dir(data)
    if daemon_running(path):
        client = connect(data)
        who = _owner(client, owner)
        client.post(f"/api/auth/tokens/{who}/{name}/revoke", TokenInfo)
    else:
        who = _owner(None, owner)
        _change(data, RevokeToken(user=who, name=name), None, "revokeToken", f"{who}/{name}")
    console.print(f"token {name} of {who} revoked", highlight=False)


# ----------------------------------------------------------------- roles
@click.group("role", cls=BmsGroup)
def role() -> None:
    """Roles: list, show, add."""


@role.command("list")
@data_option
@json_option
def list_roles(data: Path | None, as_json: bool) -> None:
    """The built-in roles (admin, operator, viewer) and the custom ones."""
    found: list[Role] = _read(data, ListRoles(), lambda c: c.get("/api/auth/roles", list[Role]))
    print_json(found) if as_json else console.print(_role_table(found))


@role.command("show")
@click.argument("name")
@data_option
@json_option
def show_role(name: str, data: Path | None, as_json: bool) -> None:
    """One role's permissions, max priority and scope."""
    found: Role = _read(data, ShowRole(name=name), lambda c: c.get(f"/api/auth/roles/{name}", Role))
    print_json(found) if as_json else console.print(_role_table([found]))


@role.command("add")
@click.argument("name")
@click.option("--permission", "permissions", multiple=True, required=True, type=click.Choice(PERMISSIONS),
              help="A permission of the role (repeatable): " + "; ".join(f"{k}: {v}" for k, v in
                                                                        PERMISSION_HELP.items()))
@click.option("--max-priority", type=click.IntRange(1, 16), default=16, show_default=True,
              help="The highest priority (lowest number) the role may command.")
@click.option("--scope", metavar="NODE", help="Only points under this node of the building model.")
@data_option
@json_option
def add_role(name: str, permissions: tuple[str, ...], max_priority: int, scope: str | None, data: Path | None,
             as_json: bool) -> None:
    """Add a custom role."""
    body = {"name": name, "permissions": list(permissions), "max_priority": max_priority, "scope": scope}
    made: Role = _change(data, AddRole(name=name, permissions=permissions, max_priority=max_priority, scope=scope),
                         lambda c: c.post("/api/auth/roles", Role, body), "addRole", name,
                         {k: v for k, v in body.items() if k != "name"})
    print_json(made) if as_json else console.print(_role_table([made]))
