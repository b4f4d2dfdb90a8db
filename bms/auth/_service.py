"""What the ``auth`` service answers, as one function over a :class:`Directory` (the daemon's actor
and the CLI without a daemon share it), and the local admin's token file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bms.auth._directory import Directory
from bms.auth.messages import (
    AddRole,
    AddUser,
    Authenticate,
    CreateToken,
    DisableUser,
    ListRoles,
    ListTokens,
    ListUsers,
    Login,
    RevokeToken,
    SetPassword,
    SetRole,
    ShowRole,
    ShowUser,
)
from bms.daemon._datadir import TOKEN_NAME
from bms.errors import DaemonError

TOKEN_FILE = TOKEN_NAME


def answer(directory: Directory, ask: Any) -> Any:
    """The reply to one of the auth messages (``bms.auth.messages``); its refusal raised."""
    match ask:
        case Authenticate(token=token):
            return directory.authenticate(token)
        case Login(user=user, password=password, address=address):
            return directory.login(user, password, address)
        case AddUser(name=name, role=role, password=password):
            return directory.add_user(name, role, password)
        case ListUsers():
            return directory.users()
        case ShowUser(name=name):
            return directory.detail(name)
        case SetPassword(name=name, password=password):
            return directory.set_password(name, password)
        case DisableUser(name=name, disabled=disabled):
            return directory.disable(name, disabled)
        case SetRole(name=name, role=role):
            return directory.set_role(name, role)
        case CreateToken(user=user, name=name, expires_in=expires_in):
            return directory.create_token(user, name, expires_in)
        case ListTokens(user=user):
            return directory.tokens(user)
        case RevokeToken(user=user, name=name):
            return directory.revoke_token(user, name)
        case ListRoles():
            return directory.roles()
        case ShowRole(name=name):
            return directory.role(name)
        case AddRole(name=name, permissions=permissions, max_priority=max_priority, scope=scope):
            return directory.add_role(name, permissions, max_priority, scope)
    raise TypeError(f"not an auth message: {type(ask).__name__}")


def read_token_file(data_dir: Path) -> str:
    """The local admin's token (empty when there is none yet)."""
    path = data_dir / TOKEN_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
    except OSError as err:
        raise DaemonError(f"{path}: cannot read the local admin token: {err.strerror}") from err


def ensure_local_admin(directory: Directory, data_dir: Path) -> str:
    """The local admin's token, valid, in ``<data dir>/api.token`` (mode 0600): created on first start,
    replaced when it was revoked; the admin user is created with it."""
    path = data_dir / TOKEN_FILE
    current = read_token_file(data_dir)
    fresh = directory.local_admin_token(current)
    if fresh is None:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return current
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(fresh + "\n")
        tmp.replace(path)
    except OSError as err:
        raise DaemonError(f"{path}: cannot write the local admin token: {err.strerror}") from err
    return fresh
