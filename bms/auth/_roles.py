"""Permissions, roles and the identity of a caller: who may do what, where, and at which priority.

A role is a set of permissions, a priority ceiling for point commands
(``max_priority``: the highest priority, i.e. the lowest number, it may
command; operators not above 8) and an optional scope (a node of the
building model: its points and those beneath it are the only ones it may
command). Admin, Operator and Viewer are built in; custom roles are made of
the same permissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

import msgspec

from bms.errors import ConfigError

Permission = Literal[
    "read", "write-points", "release-others", "alarms", "schedules", "logic", "devices", "users", "audit",
    "integrations", "system",
]
PERMISSIONS: tuple[str, ...] = get_args(Permission)
PERMISSION_HELP: dict[str, str] = {
    "read": "read points, history, the model, devices and health",
    "write-points": "command and release points (up to the role's max priority, within its scope)",
    "release-others": "release levels held by other users",
    "alarms": "acknowledge and shelve alarms",
    "schedules": "manage schedules",
    "logic": "manage logic programs and deploy bundles",
    "devices": "manage devices: discover, accept, ignore",
    "users": "manage users, roles and other users' tokens",
    "audit": "view and verify the audit log",
    "integrations": "manage integrations (MQTT, webhooks, exports)",
    "system": "the daemon itself: log level, configuration reloads",
}
LOWEST_PRIORITY = 16


class Role(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A named set of permissions with a priority ceiling and an optional subtree."""

    name: str
    permissions: frozenset[str]
    max_priority: int = LOWEST_PRIORITY
    scope: str | None = None  # a node id: only points under it may be commanded
    builtin: bool = False

    def allows(self, permission: str) -> bool:
        return permission in self.permissions


ADMIN = Role(name="admin", permissions=frozenset(PERMISSIONS), max_priority=1, builtin=True)
OPERATOR = Role(name="operator", permissions=frozenset({"read", "write-points", "alarms", "schedules"}),
                max_priority=8, builtin=True)
VIEWER = Role(name="viewer", permissions=frozenset({"read"}), builtin=True)
BUILTIN_ROLES: dict[str, Role] = {r.name: r for r in (ADMIN, OPERATOR, VIEWER)}


def make_role(name: str, permissions: Iterable[str], max_priority: int = LOWEST_PRIORITY,
              scope: str | None = None) -> Role:
    """A custom role, checked: known permissions (one line naming the unknown one), a priority of 1..16."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"invalid role name {name!r}: letters, digits, '-' and '_'")
    if name in BUILTIN_ROLES:
        raise ConfigError(f"role {name!r} is built in")
    perms = frozenset(permissions)
    unknown = sorted(perms - set(PERMISSIONS))
    if unknown:
        raise ConfigError(f"unknown permission {unknown[0]!r} (known: {', '.join(PERMISSIONS)})")
    if not 1 <= max_priority <= LOWEST_PRIORITY:
        raise ConfigError(f"max priority must be 1..16, got {max_priority}")
    return Role(name=name, permissions=perms, max_priority=max_priority, scope=scope or None)


class Identity(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Who makes a request: the user, the token used (its name) and the user's role."""

    user: str
    role: Role
    token: str = ""

    def may(self, permission: str) -> bool:
        return self.role.allows(permission)


def command_refusal(identity: Identity, priority: int, ancestry: Iterable[str]) -> str | None:
    """Why ``identity`` may not command a point at ``priority`` (None: it may).

    ``ancestry`` is the point id followed by its parents up to the site,
    checked against the role's scope.
    """
    role = identity.role
    if not role.allows("write-points"):
        return f"user {identity.user!r} (role {role.name}) may not command points"
    if priority < role.max_priority:
        return (f"user {identity.user!r} (role {role.name}) may not command above priority {role.max_priority}, "
                f"asked {priority}")
    if role.scope is not None and role.scope not in ancestry:
        return f"user {identity.user!r} (role {role.name}) may only command points under {role.scope!r}"
    return None


def release_refusal(identity: Identity, holder: str) -> str | None:
    """Why ``identity`` may not release a level held by ``holder`` (None: it may)."""
    if holder and holder != identity.user and not identity.may("release-others"):
        return f"the level is held by {holder!r}: user {identity.user!r} may not release others' commands"
    return None
