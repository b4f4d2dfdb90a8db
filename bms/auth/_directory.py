"""``Directory``: users, roles and tokens in ``users.db``, and who a token or a password belongs to.

One writer (the ``auth`` service in the daemon, the CLI when no daemon runs
on the data directory). Tokens are looked up by their SHA-256; a token of a
disabled user, revoked or past its expiry is refused. ``last_used`` is kept
in memory and written when it moved by more than :data:`LAST_USED_EVERY`
seconds, so a busy client costs no write per request.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

from bms.auth._limits import LoginLimiter
from bms.auth._roles import BUILTIN_ROLES, Identity, Role, make_role
from bms.auth._secrets import MIN_PASSWORD, Passwords, new_token, token_digest
from bms.auth.messages import NewToken, TokenInfo, UserDetail, UserView
from bms.errors import ConfigError, Conflict, LockedOut, NotAuthenticated, NotFound
from bms.store import connect_raw, open_database

USERS_DB = "users.db"
LOCAL_ADMIN = "admin"
LOCAL_TOKEN = "local"
LOGIN_TTL = 12 * 3600.0
LAST_USED_EVERY = 60.0

MIGRATIONS = [
    "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT,"
    " disabled INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);"
    "CREATE TABLE roles (name TEXT PRIMARY KEY, permissions TEXT NOT NULL, max_priority INTEGER NOT NULL,"
    " scope TEXT);"
    "CREATE TABLE tokens (digest TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name), name TEXT NOT NULL,"
    " created REAL NOT NULL, expires REAL, last_used REAL, revoked REAL);"
    "CREATE INDEX tokens_user ON tokens (user, name)",
]


def _valid_name(name: str, what: str) -> str:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise ConfigError(f"invalid {what} name {name!r}: 1-64 letters, digits, '-', '_' or '.'")
    return name


class Directory:
    def __init__(self, path: Path, clock: Callable[[], float], *, passwords: Passwords | None = None,
                 limiter: LoginLimiter | None = None) -> None:
        self.path = path
        self.clock = clock
        self.passwords = passwords or Passwords()
        self.limiter = limiter or LoginLimiter(clock)
        open_database(path, "users", MIGRATIONS).dispose()
        self._db: sqlite3.Connection = connect_raw(path)
        self._used: dict[str, float] = {}  # digest -> last use not yet written

    def close(self) -> None:
        self.flush()
        self._db.close()

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, args)

    # ----------------------------------------------------------- roles
    def role(self, name: str) -> Role:
        found = BUILTIN_ROLES.get(name)
        if found is not None:
            return found
        row = self._db.execute("SELECT permissions, max_priority, scope FROM roles WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no role named {name!r} (roles: {', '.join(r.name for r in self.roles())})")
        perms = frozenset(p for p in str(row[0]).split(",") if p)
        return Role(name=name, permissions=perms, max_priority=int(row[1]), scope=row[2])

    def roles(self) -> list[Role]:
        custom = [self.role(str(r[0])) for r in self._db.execute("SELECT name FROM roles ORDER BY name")]
        return [*BUILTIN_ROLES.values(), *custom]

    def add_role(self, name: str, permissions: tuple[str, ...], max_priority: int = 16,
                 scope: str | None = None) -> Role:
        role = make_role(name, permissions, max_priority, scope)
        if self._db.execute("SELECT 1 FROM roles WHERE name = ?", (name,)).fetchone():
            raise Conflict(f"role {name!r} exists")
        self._write("INSERT INTO roles VALUES (?, ?, ?, ?)",
                    (name, ",".join(sorted(role.permissions)), role.max_priority, role.scope))
        return role

    # ----------------------------------------------------------- users
    def _user_row(self, name: str) -> tuple[str, str, str | None, int, float]:
        row = self._db.execute("SELECT name, role, password, disabled, created FROM users WHERE name = ?",
                               (name,)).fetchone()
        if row is None:
            raise NotFound(f"no user named {name!r}")
        return (str(row[0]), str(row[1]), row[2], int(row[3]), float(row[4]))

    def user(self, name: str) -> UserView:
        n, role, password, disabled, created = self._user_row(name)
        return UserView(name=n, role=role, disabled=bool(disabled), created=created, has_password=bool(password))

    def users(self) -> list[UserView]:
        names = [str(r[0]) for r in self._db.execute("SELECT name FROM users ORDER BY name")]
        return [self.user(n) for n in names]

    def detail(self, name: str) -> UserDetail:
        view = self.user(name)
        return UserDetail(user=view, role=self.role(view.role), tokens=tuple(self.tokens(name)))

    def add_user(self, name: str, role: str, password: str | None = None) -> UserView:
        _valid_name(name, "user")
        self.role(role)
        if self._db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise Conflict(f"user {name!r} exists")
        hashed = self._hash(password) if password is not None else None
        self._write("INSERT INTO users VALUES (?, ?, ?, 0, ?)", (name, role, hashed, self.clock()))
        return self.user(name)

    def _hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD:
            raise ConfigError(f"a password needs at least {MIN_PASSWORD} characters")
        return self.passwords.hash(password)

    def set_password(self, name: str, password: str) -> UserView:
        self._user_row(name)
        self._write("UPDATE users SET password = ? WHERE name = ?", (self._hash(password), name))
        return self.user(name)

    def set_role(self, name: str, role: str) -> UserView:
        self._user_row(name)
        self.role(role)
        self._write("UPDATE users SET role = ? WHERE name = ?", (role, name))
        return self.user(name)

    def disable(self, name: str, disabled: bool = True) -> UserView:
        self._user_row(name)
        self._write("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))
        return self.user(name)

    # ---------------------------------------------------------- tokens
    def create_token(self, user: str, name: str, expires_in: float | None = None) -> NewToken:
        self._user_row(user)
        _valid_name(name, "token")
        if expires_in is not None and expires_in <= 0:
            raise ConfigError(f"a token's lifetime must be above 0 s, got {expires_in:g}")
        if any(t.name == name and t.revoked is None for t in self.tokens(user)):
            raise Conflict(f"user {user!r} already has a token named {name!r}: revoke it first")
        token, now = new_token(), self.clock()
        expires = None if expires_in is None else now + expires_in
        self._write("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                    (token_digest(token), user, name, now, expires))
        return NewToken(token=token, info=TokenInfo(user=user, name=name, created=now, expires=expires))

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        self.flush()
        sql = "SELECT user, name, created, expires, last_used, revoked FROM tokens"
        rows = (self._db.execute(sql + " WHERE user = ? ORDER BY created", (user,)) if user is not None
                else self._db.execute(sql + " ORDER BY user, created"))
        return [TokenInfo(user=r[0], name=r[1], created=r[2], expires=r[3], last_used=r[4], revoked=r[5])
                for r in rows]

    def revoke_token(self, user: str, name: str) -> TokenInfo:
        self._user_row(user)
        live = [t for t in self.tokens(user) if t.name == name and t.revoked is None]
        if not live:
            raise NotFound(f"user {user!r} has no live token named {name!r}")
        self._write("UPDATE tokens SET revoked = ? WHERE user = ? AND name = ? AND revoked IS NULL",
                    (self.clock(), user, name))
        return next(t for t in self.tokens(user) if t.name == name and t.created == live[0].created)

    # --------------------------------------------------- authentication
    def authenticate(self, token: str) -> Identity:
        """The identity holding ``token``; NotAuthenticated naming why not."""
        digest = token_digest(token)
        row = self._db.execute(
            "SELECT t.user, t.name, t.expires, t.revoked, u.role, u.disabled FROM tokens t"
            " JOIN users u ON u.name = t.user WHERE t.digest = ?", (digest,)).fetchone()
        if row is None:
            raise NotAuthenticated("unknown token")
        user, name, expires, revoked, role, disabled = row
        now = self.clock()
        if revoked is not None:
            raise NotAuthenticated(f"token {name!r} of {user!r} was revoked")
        if expires is not None and now >= expires:
            raise NotAuthenticated(f"token {name!r} of {user!r} has expired")
        if disabled:
            raise NotAuthenticated(f"user {user!r} is disabled")
        self._touch(digest, now)
        return Identity(user=user, token=name, role=self.role(role))

    def _touch(self, digest: str, now: float) -> None:
        self._used[digest] = now
        stored = self._db.execute("SELECT last_used FROM tokens WHERE digest = ?", (digest,)).fetchone()
        if stored is not None and (stored[0] is None or now - stored[0] >= LAST_USED_EVERY):
            self.flush()

    def flush(self) -> None:
        """Write the pending last-used times."""
        if not self._used:
            return
        pending, self._used = self._used, {}
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE tokens SET last_used = ? WHERE digest = ?",
                                 [(t, d) for d, t in pending.items()])

    def login(self, user: str, password: str, address: str = "", ttl: float = LOGIN_TTL) -> NewToken:
        """A short-lived token for ``user`` if ``password`` is right (LockedOut after repeated failures)."""
        locked = self.limiter.locked(user, address)
        if locked:
            raise LockedOut(locked)
        try:
            _n, _role, stored, disabled, _c = self._user_row(user)
        except NotFound:
            stored, disabled = None, 0
        if stored is None or not self.passwords.verify(stored, password) or disabled:
            self.limiter.failed(user, address)
            raise NotAuthenticated(f"wrong user or password for {user!r}" if not disabled
                                   else f"user {user!r} is disabled")
        self.limiter.succeeded(user)
        if self.passwords.needs_upgrade(stored):
            self._write("UPDATE users SET password = ? WHERE name = ?", (self.passwords.hash(password), user))
        return self.create_token(user, f"login-{secrets.token_hex(4)}", ttl)

    # ------------------------------------------------------ local admin
    def local_admin_token(self, current: str) -> str | None:
        """The token the local admin file should hold: None when ``current`` is still a valid admin token,
        else a new one (the admin user created on first start, a revoked local token replaced)."""
        if not self._db.execute("SELECT 1 FROM users WHERE name = ?", (LOCAL_ADMIN,)).fetchone():
            self._write("INSERT INTO users VALUES (?, 'admin', NULL, 0, ?)", (LOCAL_ADMIN, self.clock()))
        if current:
            try:
                who = self.authenticate(current)
                if who.user == LOCAL_ADMIN:
                    return None
            except NotAuthenticated:
                pass
        self._write("UPDATE tokens SET revoked = ? WHERE user = ? AND name = ? AND revoked IS NULL",
                    (self.clock(), LOCAL_ADMIN, LOCAL_TOKEN))
        if current and self._db.execute("SELECT 1 FROM tokens WHERE digest = ?", (token_digest(current),)).fetchone() \
                is None and current.strip():
            # an api.token from before users existed: keep it as the local admin's token
            self._write("INSERT INTO tokens VALUES (?, ?, ?, ?, NULL, NULL, NULL)",
                        (token_digest(current), LOCAL_ADMIN, LOCAL_TOKEN, self.clock()))
            return None
        return self.create_token(LOCAL_ADMIN, LOCAL_TOKEN).token
