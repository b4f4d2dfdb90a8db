"""Device liveness: Unknown until the first answer, Up, Down after repeated failures, with backoff.

:class:`DeviceLiveness` is the one state machine both bridges (BACnet and
Modbus) keep per device. It is plain state driven by outcomes and an
explicit ``now`` (monotonic seconds): no clock, no I/O, no thread.

======================  ==========================================================
state                   meaning
======================  ==========================================================
``Unknown``             not yet answered (just configured, or never reached)
``Up``                  answered; failures below ``down_after`` keep it Up
``Down``                ``down_after`` consecutive failures; retried with backoff
======================  ==========================================================

* a failure counts; at ``down_after`` consecutive failures the device is
  Down (from Unknown too: a device that never answers is down, not unknown
  forever) and :meth:`~DeviceLiveness.failed` says so once;
* while Down, each further attempt waits ``backoff * 2**k`` seconds after
  the failure (k = 1, 2, ... from the failure that made it Down), capped at
  ``max_backoff``; before that it is polled at its normal pace;
* any answer (a poll, a read, a write) makes it Up at once, whatever the
  backoff says: :meth:`~DeviceLiveness.answered` returns how long it was down.

:func:`liveness_health` turns a bridge's devices into its component health.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import Enum

from bms.supervision import Health

SHOWN = 5
"""Devices named in a health reason before it says how many more there are."""


class LivenessState(str, Enum):
    UNKNOWN = "Unknown"
    UP = "Up"
    DOWN = "Down"


class DeviceLiveness:
    """Failures, backoff and the Unknown / Up / Down state of one device."""

    def __init__(self, *, down_after: int = 3, backoff: float = 1.0, max_backoff: float = 300.0) -> None:
        if down_after < 1:
            raise ValueError(f"down_after must be at least 1, got {down_after}")
        if not backoff > 0:
            raise ValueError(f"backoff must be > 0 s, got {backoff}")
        self.down_after = down_after
        self.base = backoff
        self.max_backoff = max(backoff, max_backoff)
        self.state = LivenessState.UNKNOWN
        self.failures = 0
        self.reason = ""
        self.down_since: float | None = None
        self.retry_at = -math.inf

    @property
    def down(self) -> bool:
        return self.state is LivenessState.DOWN

    @property
    def up(self) -> bool:
        return self.state is LivenessState.UP

    @property
    def backoff(self) -> float:
        """Seconds to wait after the latest failure before trying again (0: the normal pace)."""
        over = self.failures - self.down_after + 1
        if over <= 0:
            return 0.0
        return float(min(self.max_backoff, self.base * 2.0 ** min(over, 30)))

    def may_poll(self, now: float) -> bool:
        """False while the backoff after a failure runs."""
        return now >= self.retry_at

    def failed(self, now: float, reason: str) -> bool:
        """The device did not answer. True when this failure makes it Down."""
        self.failures += 1
        self.reason = reason
        self.retry_at = now + self.backoff
        if self.state is not LivenessState.DOWN and self.failures >= self.down_after:
            self.state = LivenessState.DOWN
            self.down_since = now
            return True
        return False

    def answered(self, now: float) -> float | None:
        """The device answered (a poll, a read or a write): Up at once. Seconds it was Down, or None."""
        since = self.down_since
        self.state = LivenessState.UP
        self.failures = 0
        self.reason = ""
        self.down_since = None
        self.retry_at = -math.inf
        return None if since is None else max(0.0, now - since)


def liveness_health(devices: Mapping[str, DeviceLiveness], problems: Sequence[str] = ()) -> tuple[Health, str]:
    """A bridge's health from its devices (by id) and the configured devices it cannot poll (one line each).

    Degraded as soon as one device is Down or cannot be polled, else
    Healthy; the reason counts the devices answering and names those not
    answered yet, which never count as answering.
    """
    down = [(device_id, live) for device_id, live in devices.items() if live.down]
    waiting = [device_id for device_id, live in devices.items() if live.state is LivenessState.UNKNOWN]
    answering = len(devices) - len(down) - len(waiting)
    parts: list[str] = []
    if down:
        parts.append(f"{len(down)} of {len(devices)} devices down: "
                     + _named([f"{device_id} ({live.reason})" if live.reason else device_id for device_id, live in down]))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        parts.append(f"{len(problems)} not polled: {problems[0]}{more}")
    if not parts:
        parts.append(f"{answering} of {len(devices)} devices answering")
    if waiting:
        parts.append(f"{len(waiting)} not answered yet: {_named(waiting)}")
    return (Health.DEGRADED if down or problems else Health.HEALTHY), "; ".join(parts)


def _named(items: Sequence[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
