"""Restart decisions and component health, without threads.

A supervised component declares a :class:`RestartPolicy`; a
:class:`RestartTracker` applies it to the component's failures, as OTP does:
restart with exponential backoff until more than ``max_restarts`` failures
fall within ``within`` seconds, then give up (stop and mark Down) or
escalate (the whole platform stops), as declared. :class:`ComponentHealth`
is one component's entry on the health board, and the API's wire form of it.

Backoff: the first restart in a window is immediate; the n-th waits
``backoff_initial * backoff_factor ** (n - 2)`` seconds, capped at
``backoff_max``.
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import Literal

import msgspec


class Health(str, Enum):
    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    DOWN = "Down"
    UNKNOWN = "Unknown"


class RestartPolicy(msgspec.Struct, frozen=True, kw_only=True):
    strategy: Literal["restart", "escalate"] = "restart"
    max_restarts: int = 5
    within: float = 60.0
    on_exhausted: Literal["stop", "escalate"] = "stop"
    backoff_initial: float = 0.1
    backoff_factor: float = 2.0
    backoff_max: float = 30.0


class Decision(msgspec.Struct, frozen=True):
    """What to do after a failure: restart after ``delay``, stop, or escalate."""

    action: Literal["restart", "stop", "escalate"]
    delay: float = 0.0
    restarts_in_window: int = 0


class RestartTracker:
    """Applies a :class:`RestartPolicy` to the failure times of one component."""

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self._failures: deque[float] = deque()
        self.total_restarts = 0

    def on_failure(self, now: float) -> Decision:
        p = self.policy
        if p.strategy == "escalate":
            return Decision("escalate")
        self._failures.append(now)
        while self._failures and self._failures[0] <= now - p.within:
            self._failures.popleft()
        n = len(self._failures)
        if n > p.max_restarts:
            return Decision("escalate" if p.on_exhausted == "escalate" else "stop", 0.0, n)
        delay = 0.0 if n <= 1 else min(p.backoff_max, p.backoff_initial * p.backoff_factor ** (n - 2))
        return Decision("restart", delay, n)

    def restarted(self) -> None:
        self.total_restarts += 1


class ComponentHealth(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One component's health, as the supervisor's health board holds it and the API shows it."""

    component: str
    state: str
    reason: str = ""
    since: float = 0.0
    restarts: int = 0
    failures: int = 0
    last_error: str = ""
    queue_depth: int = 0
    lost: int = 0  # values or messages accepted by the component and lost (a backlog past its bound)
