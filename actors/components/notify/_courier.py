"""Couriers: apprise deliveries off the notifier's thread, one worker thread per recipient.

Each recipient has its own :class:`Courier` (a daemon thread and a queue), so
a recipient whose server is down or slow (an SMTP server that never answers
holds its thread until apprise's own timeout) delays only its own messages,
never the other recipients' nor the notifier's mailbox. An attempt's outcome
goes back to the notifier as a :class:`~bms.notify.DeliveryEnded` tell.

A ``json://`` or ``jsons://`` recipient (the generic webhook channel) is
posted by the webhooks component's signed sender
(:func:`actors.components.webhooks.post_signed`): apprise's JSON body
(version, title, message, type) with the ``X-Bms-Timestamp`` and, when the
recipient has a ``secret``, the HMAC-SHA256 ``X-Bms-Signature`` headers.

apprise imports the standard library's deprecated ``imghdr`` when it loads
its plugins (Python 3.11 warns; 3.13 dropped it and apprise has a shim):
the plugins are loaded once, here, with that one warning silenced.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

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


class SignedJson:
    """The generic webhook channel: apprise's JSON payload, signed as the webhooks component signs its events."""

    def __init__(self, url: str, secret: str = "") -> None:
        import httpx

        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"no host in this {parts.scheme}:// URL")
        self.host = parts.hostname
        port = f":{parts.port}" if parts.port else ""
        scheme = "https" if parts.scheme.lower() == "jsons" else "http"
        self.url = f"{scheme}://{self.host}{port}{parts.path or '/'}"
        query = parse_qsl(parts.query.replace("+", "%2B"))  # apprise: +Header=value (a "+" here is no space)
        self.headers = {k[1:]: v for k, v in query if k.startswith("+")}
        self.secret = secret
        auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        self.client = httpx.Client(timeout=15.0, auth=auth, headers=self.headers)

    def send(self, title: str, body: str, severity: str, delivery_id: str) -> str:
        import msgspec

        from actors.components.webhooks import post_signed

        payload = msgspec.json.encode({"version": "1.0", "title": title, "message": body, "attachments": [],
                                       "type": NOTIFY_TYPES.get(severity, "info")})
        status, error = post_signed(self.client, self.url, self.secret, "alarm.notification",
                                    delivery_id or uuid.uuid4().hex, payload, time.time())
        if not error:
            return ""
        if status == 0:
            return f"A Connection error occurred sending JSON notification to {self.host}: {error}"
        return f"JSON notification to {self.host} failed: {error}"


def channel(url: str, secret: str = "") -> Any:
    """The channel for ``url``; a ValueError naming the scheme when it cannot be used."""
    if url.split("://", 1)[0].lower() in ("json", "jsons"):
        return SignedJson(url, secret)
    apprise = _apprise()
    service = apprise.Apprise()
    if not service.add(url):
        scheme = url.split("://", 1)[0]
        raise ValueError(f"apprise cannot use this {scheme}:// URL (unknown scheme or a malformed URL)")
    return service


def send(service: Any, title: str, body: str, severity: str, delivery_id: str = "") -> str:
    """One attempt: "" when it was delivered, else the reason in one line."""
    if isinstance(service, SignedJson):
        return service.send(title, body, severity, delivery_id)
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
        self.service = channel(recipient.url, recipient.secret)
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
            error = send(self.service, title, body, severity, delivery_id)
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
