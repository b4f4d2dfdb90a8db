"""Password hashes (Argon2id, argon2-cffi) and API tokens (random, stored as SHA-256).

A password hash carries its Argon2 parameters (``$argon2id$v=19$m=...,t=...,p=...``):
:meth:`Passwords.needs_upgrade` tells when they differ from today's, and the
directory re-hashes at the next successful login. A token is 32 random bytes
(``bms_`` + url-safe text): it is shown once; only its SHA-256 is stored (a
slow hash buys nothing against 256 bits of entropy and would cost every request).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_PREFIX = "bms_"
MIN_PASSWORD = 8


class Passwords:
    """Argon2id hashing with the given parameters (argon2-cffi's defaults unless told)."""

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_upgrade(self, stored: str) -> bool:
        """True when ``stored`` was made with other parameters than today's."""
        try:
            return bool(self._hasher.check_needs_rehash(stored))
        except InvalidHashError:
            return True


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
