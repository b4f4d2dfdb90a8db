"""Deliveries: each notice's attempts, its retries with exponential backoff, and the recipients that keep failing.

Plain bookkeeping on an injected time. A delivery is ``sending`` while an
attempt runs, ``retrying`` while it waits for its next attempt
(``RetryPolicy.delay`` after the n-th failure), ``sent`` or ``failed``
(its last attempt failed) at the end. A recipient whose last
``failing_after`` attempts all failed is *failing* (the notifier's health
names it) until one of its deliveries goes through. Each recipient is
counted on its own: one that is down never holds back the others' notices.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bms.notify._dispatch import Notice
from bms.notify._settings import RetryPolicy

SENDING = "sending"
RETRYING = "retrying"
SENT = "sent"
FAILED = "failed"
DELIVERY_STATES = (SENDING, RETRYING, SENT, FAILED)


@dataclass
class Delivery:
    id: str
    notice: Notice
    channel: str  # the URL scheme: mailto, json, ntfy ...
    created: float
    updated: float
    status: str = SENDING
    attempts: int = 0
    error: str = ""
    next_attempt: float | None = None
    max_attempts: int = 1

    @property
    def done(self) -> bool:
        return self.status in (SENT, FAILED)


@dataclass
class _Streak:
    failures: int = 0
    error: str = ""


class Deliveries:
    def __init__(self, retry: RetryPolicy) -> None:
        self.retry = retry
        self.open: dict[str, Delivery] = {}  # not sent nor failed yet
        self.streaks: dict[str, _Streak] = {}  # recipient -> failed attempts in a row

    def start(self, notice: Notice, channel: str, now: float, retries: bool = True) -> Delivery:
        """A new delivery whose first attempt starts now (``retries=False``: one attempt only, a test)."""
        d = Delivery(id=uuid.uuid4().hex, notice=notice, channel=channel, created=now, updated=now, attempts=1,
                     max_attempts=self.retry.max_attempts if retries else 1)
        self.open[d.id] = d
        return d

    def resume(self, delivery: Delivery) -> None:
        """A delivery read back from the log after a restart (its next attempt as recorded)."""
        self.open[delivery.id] = delivery

    def outcome(self, delivery_id: str, error: str, now: float) -> Delivery | None:
        """The attempt running for ``delivery_id`` ended (``error`` empty: sent). None if it is not open."""
        d = self.open.get(delivery_id)
        if d is None or d.status != SENDING:
            return None
        d.updated = now
        streak = self.streaks.setdefault(d.notice.recipient, _Streak())
        if not error:
            d.status, d.error, d.next_attempt = SENT, "", None
            streak.failures, streak.error = 0, ""
            del self.open[d.id]
            return d
        d.error = error
        streak.failures += 1
        streak.error = error
        if d.attempts >= d.max_attempts:
            d.status, d.next_attempt = FAILED, None
            del self.open[d.id]
        else:
            d.status, d.next_attempt = RETRYING, now + self.retry.delay(d.attempts)
        return d

    def due(self, now: float) -> list[Delivery]:
        """The deliveries whose next attempt is due: each is ``sending`` again, its attempt counted."""
        out = []
        for d in self.open.values():
            if d.status == RETRYING and d.next_attempt is not None and d.next_attempt <= now:
                d.status, d.attempts, d.updated, d.next_attempt = SENDING, d.attempts + 1, now, None
                out.append(d)
        return out

    def failing(self) -> dict[str, str]:
        """Recipients whose last ``failing_after`` attempts failed, with the last error."""
        return {name: s.error for name, s in sorted(self.streaks.items())
                if s.failures >= self.retry.failing_after}

    def next_due(self) -> float | None:
        times = [d.next_attempt for d in self.open.values() if d.status == RETRYING and d.next_attempt is not None]
        return min(times) if times else None
