"""Posting signed webhooks: :func:`post_signed` (one attempt) and :class:`Poster` (an endpoint's own thread).

Each endpoint has its own Poster (a thread, a queue, an httpx client), so an
endpoint that is down or slow delays only its own deliveries. The alarm
notifier's json:// recipients go through :func:`post_signed` too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import httpx

from bms.export import signed_headers
from bms.logs import get_logger


def post_signed(client: httpx.Client, url: str, secret: str, kind: str, delivery_id: str, body: bytes,
                now: float) -> tuple[int, str]:
    """One attempt: (HTTP status, "") when the endpoint took it (2xx), else (status or 0, the reason)."""
    headers = signed_headers(secret, kind, delivery_id, body, now)
    try:
        answer = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as err:
        return 0, f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    if 200 <= answer.status_code < 300:
        return answer.status_code, ""
    text = answer.text.strip().splitlines()
    return answer.status_code, f"HTTP {answer.status_code}" + (f": {text[0][:200]}" if text else "")


class Poster:
    """The deliveries of one endpoint, in order, on a thread of its own."""

    def __init__(self, name: str, url: str, secret: str, timeout: float, now: Callable[[], float],
                 report: Callable[[str, int, str], None]) -> None:
        self.name = name
        self.url = url
        self.secret = secret
        self.now = now
        self.report = report  # (delivery id, http status, error) -> tells the webhooks actor
        self.log = get_logger(f"webhooks:{name}")
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._queue: queue.SimpleQueue[tuple[str, str, bytes] | None] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"webhook-{name}", daemon=True)
        self._thread.start()

    def post(self, delivery_id: str, kind: str, body: bytes) -> None:
        self._queue.put((delivery_id, kind, body))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._closing.is_set():  # what is left is pending in the log: resumed at start
                return
            delivery_id, kind, body = item
            status, error = post_signed(self.client, self.url, self.secret, kind, delivery_id, body, self.now())
            try:
                self.report(delivery_id, status, error)
            except Exception as err:
                self.log.warning("delivery outcome not reported", error=repr(err))

    def close(self, timeout: float = 2.0) -> bool:
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout)
        self.client.close()
        return not self._thread.is_alive()
