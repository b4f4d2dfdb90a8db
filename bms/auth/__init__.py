"""Users, roles and tokens: who is calling and what they may do (plain logic, no threads).

* :class:`Role`, :class:`Identity`, the built-in roles (admin, operator,
  viewer), :data:`PERMISSIONS`, :func:`command_refusal` (priority ceiling and
  scope) and :func:`release_refusal` (others' commands);
* :class:`Directory`: users, custom roles and tokens in ``users.db``
  (Argon2id passwords, tokens stored as SHA-256, expiry, revocation,
  last use, login with rate limit and lock-out);
* :func:`answer`: the ``auth`` service's reply to one of its messages
  (:mod:`bms.auth.messages`), for the daemon's actor and the CLI alike;
* :func:`ensure_local_admin`: the local admin and its token file (0600).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bms.auth._limits import LoginLimiter
from bms.auth._roles import (
    ADMIN,
    BUILTIN_ROLES,
    OPERATOR,
    PERMISSION_HELP,
    PERMISSIONS,
    VIEWER,
    Identity,
    Permission,
    Role,
    command_refusal,
    make_role,
    release_refusal,
)

if TYPE_CHECKING:
    from bms.auth._directory import LOCAL_ADMIN, LOCAL_TOKEN, LOGIN_TTL, USERS_DB, Directory
    from bms.auth._secrets import Passwords, token_digest
    from bms.auth._service import TOKEN_FILE, answer, ensure_local_admin, read_token_file

_LAZY = {
    "Passwords": "_secrets", "token_digest": "_secrets", "LOCAL_ADMIN": "_directory", "LOCAL_TOKEN": "_directory",
    "LOGIN_TTL": "_directory", "USERS_DB": "_directory", "Directory": "_directory", "TOKEN_FILE": "_service",
    "answer": "_service", "ensure_local_admin": "_service", "read_token_file": "_service",
}


def __getattr__(name: str) -> Any:
    """The store-backed names load on first use (they bring SQLite and SQLAlchemy)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bms.auth' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"bms.auth.{module}"), name)


__all__ = [
    "ADMIN", "BUILTIN_ROLES", "LOCAL_ADMIN", "LOCAL_TOKEN", "LOGIN_TTL", "OPERATOR", "PERMISSIONS",
    "PERMISSION_HELP", "TOKEN_FILE", "USERS_DB", "VIEWER", "Directory", "Identity", "LoginLimiter", "Passwords",
    "Permission", "Role", "answer", "command_refusal", "ensure_local_admin", "make_role", "read_token_file",
    "release_refusal", "token_digest",
]
