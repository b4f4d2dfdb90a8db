"""The permission matrix: each role against each action, with priority ceilings and subtree scoping."""

from __future__ import annotations

import pytest

from bms.auth import ADMIN, OPERATOR, PERMISSIONS, VIEWER, Identity, Role, command_refusal, make_role, release_refusal
from bms.errors import ConfigError

BUILDING_A = make_role("operator-a", ["read", "write-points"], max_priority=8, scope="building-a")
INTEGRATOR = make_role("integrator", ["read", "devices", "integrations", "logic"])
NOBODY = make_role("nobody", [])

# A point of building A and one of building B, with their parents up to the site.
IN_A = ["ahu1/sat_sp", "ahu1", "building-a", "site"]
IN_B = ["ahu9/sat_sp", "ahu9", "building-b", "site"]

PERMISSION_TABLE: dict[str, dict[str, bool]] = {
    #                 read   write  release alarms sched  logic  devices users  audit  integr system
    "admin":      dict(zip(PERMISSIONS, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], strict=True)),
    "operator":   dict(zip(PERMISSIONS, [1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0], strict=True)),
    "viewer":     dict(zip(PERMISSIONS, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], strict=True)),
    "operator-a": dict(zip(PERMISSIONS, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], strict=True)),
    "integrator": dict(zip(PERMISSIONS, [1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0], strict=True)),
    "nobody":     dict(zip(PERMISSIONS, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], strict=True)),
}
ROLES = {r.name: r for r in (ADMIN, OPERATOR, VIEWER, BUILDING_A, INTEGRATOR, NOBODY)}


@pytest.mark.parametrize(("role", "permission"), [(r, p) for r in PERMISSION_TABLE for p in PERMISSIONS])
def test_permission_matrix(role: str, permission: str) -> None:
    assert Identity(user="u", role=ROLES[role]).may(permission) is bool(PERMISSION_TABLE[role][permission])


# role, priority, where -> allowed to command
COMMAND_TABLE = [
    ("admin", 1, IN_A, True),
    ("admin", 16, IN_B, True),
    ("operator", 8, IN_A, True),
    ("operator", 16, IN_B, True),
    ("operator", 7, IN_A, False),   # above its ceiling
    ("operator", 1, IN_B, False),
    ("viewer", 16, IN_A, False),    # no write permission at all
    ("operator-a", 8, IN_A, True),
    ("operator-a", 12, IN_B, False),  # outside its subtree
    ("operator-a", 5, IN_A, False),   # inside, above its ceiling
    ("integrator", 16, IN_A, False),
    ("nobody", 16, IN_A, False),
]


@pytest.mark.parametrize(("role", "priority", "where", "allowed"), COMMAND_TABLE)
def test_command_matrix(role: str, priority: int, where: list[str], allowed: bool) -> None:
    refusal = command_refusal(Identity(user="u", role=ROLES[role]), priority, where)
    assert (refusal is None) is allowed
    if not allowed:
        assert "'u'" in str(refusal) and role in str(refusal)


@pytest.mark.parametrize(("role", "holder", "allowed"), [
    ("admin", "bob", True),
    ("operator", "bob", False),
    ("operator", "u", True),     # its own level
    ("operator", "", True),      # nobody holds it
    ("operator-a", "bob", False),
])
def test_releasing_others_commands(role: str, holder: str, allowed: bool) -> None:
    assert (release_refusal(Identity(user="u", role=ROLES[role]), holder) is None) is allowed


@pytest.mark.parametrize(("args", "message"), [
    (("admin", ["read"]), "role 'admin' is built in"),
    (("x", ["read", "fly"]), "unknown permission 'fly'"),
    (("x", ["read"], 0), "max priority must be 1..16, got 0"),
    (("bad name", ["read"]), "invalid role name 'bad name'"),
])
def test_a_bad_custom_role_is_one_line(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_role(*args)  # type: ignore[arg-type]


def test_roles_are_wire_structs() -> None:
    import msgspec

    assert msgspec.json.decode(msgspec.json.encode(BUILDING_A), type=Role) == BUILDING_A
