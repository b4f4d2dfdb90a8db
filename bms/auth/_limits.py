"""Failed logins, counted per user and per address on an injected clock, with lock-out.

After ``max_failures`` failures within ``window`` seconds a user (or an
address) is locked out for ``lockout`` seconds: even the right password is
refused meanwhile. A successful login clears the user's count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class LoginLimiter:
    def __init__(self, clock: Callable[[], float], *, max_failures: int = 5, window: float = 300.0,
                 lockout: float = 900.0) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    @staticmethod
    def _keys(user: str, address: str) -> tuple[str, ...]:
        return (f"user:{user}", f"address:{address}") if address else (f"user:{user}",)

    def locked(self, user: str, address: str = "") -> str | None:
        """What is locked out (``user 'bob'`` or ``address 10.0.0.9``) with the seconds left, or None."""
        now = self.clock()
        for key in self._keys(user, address):
            until = self._locked_until.get(key)
            if until is None:
                continue
            if now >= until:
                del self._locked_until[key]
                self._failures.pop(key, None)
                continue
            kind, _, name = key.partition(":")
            return f"{kind} {name!r} is locked out for {until - now:.0f} s after repeated failed logins"
        return None

    def failed(self, user: str, address: str = "") -> None:
        now = self.clock()
        for key in self._keys(user, address):
            times = self._failures.setdefault(key, deque())
            times.append(now)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.max_failures:
                self._locked_until[key] = now + self.lockout

    def succeeded(self, user: str) -> None:
        """The user's count starts again (the address's does not: one good account must not
        clear an address that guesses others' passwords)."""
        self._failures.pop(f"user:{user}", None)
