"""Health per component, readable from any thread (API, CLI, shell)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import msgspec

from bms.supervision import ComponentHealth, Health


class HealthBoard:
    """Thread-safe table of component health; ``set`` reports real changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: dict[str, ComponentHealth] = {}
        self._depth: dict[str, Callable[[], int]] = {}

    def register(self, component: str, now: float, depth: Callable[[], int] | None = None) -> None:
        with self._lock:
            if component not in self._status:
                self._status[component] = ComponentHealth(component=component, state=Health.UNKNOWN.value, since=now)
            if depth is not None:
                self._depth[component] = depth

    def set(self, component: str, state: Health, now: float, reason: str = "") -> bool:
        """Set the state; True when the state changed."""
        with self._lock:
            old = self._status.get(component) or ComponentHealth(component=component, state=Health.UNKNOWN.value)
            changed = old.state != state.value
            self._status[component] = msgspec.structs.replace(
                old, state=state.value, reason=reason, since=now if changed else old.since
            )
            return changed

    def failed(self, component: str, error: str) -> None:
        with self._lock:
            old = self._status.get(component) or ComponentHealth(component=component, state=Health.UNKNOWN.value)
            self._status[component] = msgspec.structs.replace(old, failures=old.failures + 1, last_error=error)

    def lost(self, component: str, count: int) -> None:
        """``count`` more values or messages the component had accepted are lost."""
        with self._lock:
            old = self._status.get(component) or ComponentHealth(component=component, state=Health.UNKNOWN.value)
            self._status[component] = msgspec.structs.replace(old, lost=old.lost + count)

    def restarted(self, component: str) -> None:
        with self._lock:
            old = self._status[component]
            self._status[component] = msgspec.structs.replace(old, restarts=old.restarts + 1)

    def get(self, component: str) -> ComponentHealth | None:
        with self._lock:
            st = self._status.get(component)
            depth = self._depth.get(component)
        if st is not None and depth is not None:
            st = msgspec.structs.replace(st, queue_depth=depth())
        return st

    def snapshot(self) -> list[ComponentHealth]:
        with self._lock:
            names = sorted(self._status)
        return [s for s in (self.get(n) for n in names) if s is not None]

    def overall(self) -> Health:
        states = {s.state for s in self.snapshot()}
        if not states:
            return Health.UNKNOWN
        if states == {Health.HEALTHY.value}:
            return Health.HEALTHY
        if Health.DOWN.value in states or Health.DEGRADED.value in states:
            return Health.DEGRADED
        return Health.UNKNOWN
