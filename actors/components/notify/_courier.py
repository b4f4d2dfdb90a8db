"""Couriers: apprise deliveries off the notifier's thread, one worker thread per recipient.

Each recipient has its own :class:`Courier` (a daemon thread and a queue), so
a recipient whose server is down or slow (an SMTP server that never answers
holds its thread until apprise's own timeout) delays only its own messages,
never the other recipients' nor the notifier's mailbox. An attempt's outcome
goes back to the notifier as a :class:`~bms.notify.DeliveryEnded` tell.

apprise imports the standard library's deprecated ``imghdr`` when it loads
its plugins (Python 3.11 warns; 3.13 dropped it and apprise has a shim):
the plugins are loaded once, here, with that one warning silenced.
"""

from __future__ import annotations

import queue
import threading
import warnings
from collections.abc import Callable
from typing import Any

from bms.logs import get_logger
from bms.notify import Recipient

_load_lock = threading.Lock()
_loaded = False

# what an apprise notification's type is, by alarm severity (colours and icons on the channels that have them)
NOTIFY_TYPES = {"critical": "failure", "high": "failure", "medium": "warning", "low": "info", "": "info"}


def _apprise() -> Any:
    global _loaded
    with _load_lock, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*imghdr.*", category=DeprecationWarning)
        import apprise

        if not _loaded:
            from apprise import manager_plugins

            manager: Any = manager_plugins.NotificationManager
            manager().load_modules()
            _loaded = True
    return apprise


def channel(url: str) -> Any:
    """The apprise object for ``url``; a ValueError naming the scheme when apprise does not take it."""
    apprise = _apprise()
    service = apprise.Apprise()
    if not service.add(url):
        scheme = url.split("://", 1)[0]
        raise ValueError(f"apprise cannot use this {scheme}:// URL (unknown scheme or a malformed URL)")
    return service


def send(service: Any, title: str, body: str, severity: str) -> str:
    """One attempt: "" when apprise delivered it, else the reason in one line."""
    apprise = _apprise()
    try:
        result = service.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT,
                                notify_type=NOTIFY_TYPES.get(severity, "info"))
    except Exception as err:  # a plugin that raises is a failed attempt, never a dead courier
        return f"{type(err).__name__}: {err}"
    if bool(result):
        return ""
    reasons: list[str] = []
    for outcome in getattr(result, "results", ()):
        for attempt in getattr(outcome, "attempts", ()):
            for entry in getattr(attempt, "logs", ()):
                if entry.level in ("WARNING", "ERROR", "CRITICAL") and entry.message not in reasons:
                    reasons.append(entry.message)
    return "; ".join(reasons) or f"apprise reports {getattr(result, 'status', 'a failure')!s}"


class Courier:
    """The deliveries of one recipient, in order, on a thread of its own."""

    def __init__(self, recipient: Recipient, report: Callable[[str, str], None]) -> None:
        self.recipient = recipient
        self.report = report  # (delivery id, error) -> tells the notifier
        self.service = channel(recipient.url)
        self.log = get_logger(f"notify:{recipient.name}")
        self._queue: queue.SimpleQueue[tuple[str, str, str, str] | None] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"notify-{recipient.name}", daemon=True)
        self._thread.start()

    def post(self, delivery_id: str, title: str, body: str, severity: str) -> None:
        self._queue.put((delivery_id, title, body, severity))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._closing.is_set():  # what is left is in the log, resumed at the next start
                return
            delivery_id, title, body, severity = item
            error = send(self.service, title, body, severity)
            try:
                self.report(delivery_id, error)
            except Exception as err:  # the notifier is gone: nobody to tell
                self.log.warning("delivery outcome not reported", error=repr(err))

    def close(self, timeout: float = 2.0) -> bool:
        """Stop after the attempt running (if any); False if it did not end within ``timeout``."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()
