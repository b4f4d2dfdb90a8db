"""users.db: users, Argon2id passwords, tokens (expiry, revocation, last use) and logins with lock-out,
on a manual clock."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from bms.auth import Directory, LoginLimiter, Passwords, ensure_local_admin, token_digest
from bms.clock import ManualClock
from bms.errors import ConfigError, Conflict, LockedOut, NotAuthenticated, NotFound

FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture
def users(tmp_path: Path, clock: ManualClock) -> Directory:
    directory = Directory(tmp_path / "users.db", clock.now, passwords=Passwords(**FAST),
                          limiter=LoginLimiter(clock.now, max_failures=3, window=60, lockout=300))
    yield directory
    directory.close()


def test_a_token_names_its_user_and_role(users: Directory) -> None:
    users.add_user("olga", "operator")
    made = users.create_token("olga", "laptop")
    who = users.authenticate(made.token)
    assert (who.user, who.token, who.role.name, who.role.max_priority) == ("olga", "laptop", "operator", 8)


def test_tokens_are_stored_hashed(users: Directory, tmp_path: Path) -> None:
    users.add_user("olga", "operator")
    made = users.create_token("olga", "laptop")
    users.close()
    raw = (tmp_path / "users.db").read_bytes() + (tmp_path / "users.db-wal").read_bytes() \
        if (tmp_path / "users.db-wal").exists() else (tmp_path / "users.db").read_bytes()
    assert made.token.encode() not in raw
    stored = sqlite3.connect(tmp_path / "users.db").execute("SELECT digest FROM tokens").fetchone()[0]
    assert stored == token_digest(made.token)


def test_a_token_expires_on_the_clock(users: Directory, clock: ManualClock) -> None:
    users.add_user("olga", "operator")
    made = users.create_token("olga", "short", expires_in=3600)
    clock.advance(3599)
    assert users.authenticate(made.token).user == "olga"
    clock.advance(1)
    with pytest.raises(NotAuthenticated, match="token 'short' of 'olga' has expired"):
        users.authenticate(made.token)


def test_a_revoked_token_is_refused_at_once(users: Directory, clock: ManualClock) -> None:
    users.add_user("olga", "operator")
    made = users.create_token("olga", "laptop")
    users.authenticate(made.token)
    clock.advance(5)
    revoked = users.revoke_token("olga", "laptop")
    assert revoked.revoked == clock.now()
    with pytest.raises(NotAuthenticated, match="was revoked"):
        users.authenticate(made.token)
    with pytest.raises(NotFound, match="no live token named 'laptop'"):
        users.revoke_token("olga", "laptop")
    assert users.create_token("olga", "laptop").info.name == "laptop"  # the name is free again


def test_last_use_is_recorded_without_a_write_per_request(users: Directory, clock: ManualClock) -> None:
    users.add_user("olga", "operator")
    made = users.create_token("olga", "laptop")
    users.authenticate(made.token)
    assert users.tokens("olga")[0].last_used == clock.now()
    first = clock.now()
    clock.advance(10)
    users.authenticate(made.token)  # kept in memory
    clock.advance(100)
    users.authenticate(made.token)  # more than a minute after the stored one: written
    assert users.tokens("olga")[0].last_used == clock.now() != first


def test_unknown_tokens_and_disabled_users_are_refused(users: Directory) -> None:
    with pytest.raises(NotAuthenticated, match="unknown token"):
        users.authenticate("bms_nothing")
    users.add_user("olga", "operator")
    made = users.create_token("olga", "laptop")
    users.disable("olga")
    with pytest.raises(NotAuthenticated, match="user 'olga' is disabled"):
        users.authenticate(made.token)
    users.disable("olga", False)
    assert users.authenticate(made.token).user == "olga"


def test_login_gives_a_short_lived_token(users: Directory, clock: ManualClock) -> None:
    users.add_user("olga", "operator", "correct horse")
    made = users.login("olga", "correct horse", "10.0.0.5")
    assert made.info.expires == clock.now() + 12 * 3600
    assert users.authenticate(made.token).user == "olga"
    with pytest.raises(NotAuthenticated, match="wrong user or password for 'olga'"):
        users.login("olga", "wrong horse")
    with pytest.raises(NotAuthenticated, match="wrong user or password for 'nobody'"):
        users.login("nobody", "correct horse")


def test_repeated_failures_lock_the_user_out(users: Directory, clock: ManualClock) -> None:
    users.add_user("olga", "operator", "correct horse")
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            users.login("olga", "guess", "10.0.0.9")
    with pytest.raises(LockedOut, match=r"user 'olga' is locked out for 300 s"):
        users.login("olga", "correct horse", "10.0.0.5")  # even the right password, from elsewhere
    clock.advance(299)
    with pytest.raises(LockedOut):
        users.login("olga", "correct horse", "10.0.0.5")
    clock.advance(1)
    assert users.login("olga", "correct horse", "10.0.0.5").info.user == "olga"


def test_repeated_failures_lock_the_address_out(users: Directory, clock: ManualClock) -> None:
    users.add_user("olga", "operator", "correct horse")
    for name in ("a", "b", "c"):  # one address guessing three users
        with pytest.raises(NotAuthenticated):
            users.login(name, "guess", "10.0.0.9")
    with pytest.raises(LockedOut, match=r"address '10\.0\.0\.9' is locked out"):
        users.login("olga", "correct horse", "10.0.0.9")
    assert users.login("olga", "correct horse", "10.0.0.5").info.user == "olga"


def test_failures_outside_the_window_do_not_add_up(users: Directory, clock: ManualClock) -> None:
    users.add_user("olga", "operator", "correct horse")
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            users.login("olga", "guess")
    clock.advance(61)
    with pytest.raises(NotAuthenticated) as failed:
        users.login("olga", "guess")
    assert not isinstance(failed.value, LockedOut)
    assert users.login("olga", "correct horse").info.user == "olga"


def test_a_hash_with_old_parameters_is_upgraded_at_login(tmp_path: Path, clock: ManualClock) -> None:
    old = Directory(tmp_path / "users.db", clock.now, passwords=Passwords(**FAST))
    old.add_user("olga", "operator", "correct horse")
    old.close()
    stronger = Passwords(time_cost=2, memory_cost=16, parallelism=1)
    users = Directory(tmp_path / "users.db", clock.now, passwords=stronger)
    stored = lambda: sqlite3.connect(tmp_path / "users.db").execute("SELECT password FROM users").fetchone()[0]  # noqa: E731
    assert stored().startswith("$argon2id$v=19$m=8,t=1,p=1$")
    users.login("olga", "correct horse")
    assert stored().startswith("$argon2id$v=19$m=16,t=2,p=1$")
    assert users.login("olga", "correct horse").info.user == "olga"
    users.close()


def test_custom_roles_and_role_changes(users: Directory) -> None:
    users.add_role("operator-a", ("read", "write-points"), 8, "building-a")
    users.add_user("olga", "viewer")
    users.set_role("olga", "operator-a")
    who = users.authenticate(users.create_token("olga", "t").token)
    assert (who.role.scope, who.role.max_priority, sorted(who.role.permissions)) == (
        "building-a", 8, ["read", "write-points"])
    assert [r.name for r in users.roles()] == ["admin", "operator", "viewer", "operator-a"]
    with pytest.raises(Conflict, match="role 'operator-a' exists"):
        users.add_role("operator-a", ("read",))
    with pytest.raises(NotFound, match="no role named 'opertor'"):
        users.set_role("olga", "opertor")


@pytest.mark.parametrize(("call", "message"), [
    (lambda d: d.add_user("olga", "operator"), "user 'olga' exists"),
    (lambda d: d.add_user("x y", "operator"), "invalid user name 'x y'"),
    (lambda d: d.add_user("new", "operator", "short"), "at least 8 characters"),
    (lambda d: d.create_token("olga", "t", expires_in=0), "lifetime must be above 0 s"),
    (lambda d: d.create_token("nobody", "t"), "no user named 'nobody'"),
])
def test_bad_requests_are_one_line(users: Directory, call: object, message: str) -> None:
    users.add_user("olga", "operator")
    with pytest.raises((ConfigError, Conflict, NotFound), match=message):
        call(users)  # type: ignore[operator]


def test_the_local_admin_and_its_private_token_file(users: Directory, tmp_path: Path) -> None:
    token = ensure_local_admin(users, tmp_path)
    path = tmp_path / "api.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert users.authenticate(token).user == "admin" and users.authenticate(token).role.name == "admin"
    assert ensure_local_admin(users, tmp_path) == token  # kept across starts
    users.revoke_token("admin", "local")
    fresh = ensure_local_admin(users, tmp_path)  # a revoked local token is replaced at the next start
    assert fresh != token and path.read_text().strip() == fresh
    assert users.authenticate(fresh).user == "admin"


def test_an_api_token_from_before_users_becomes_the_local_admins(users: Directory, tmp_path: Path) -> None:
    (tmp_path / "api.token").write_text("an-old-api-token-0123456789\n")
    assert ensure_local_admin(users, tmp_path) == "an-old-api-token-0123456789"
    assert users.authenticate("an-old-api-token-0123456789").token == "local"
