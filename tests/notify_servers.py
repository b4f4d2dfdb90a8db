"""Real servers on loopback that receive notifications: SMTP (aiosmtpd) and HTTP (apprise's json:// payload).

Each collects what it receives and lets a test wait for it (no sleeps);
:func:`closed_port` gives a port where nothing listens (a recipient that is down).
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    return free_port()


class Inbox:
    """What a server received, with a wait for the n-th item."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def add(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.items) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} message(s), got {len(self.items)}: {self.items!r}")
                self._cond.wait(left)
            return list(self.items)


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=bms@example.org&to=ops@example.org"

    def messages(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        return self.inbox.wait_for(count, timeout)

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd server on loopback (its own thread), collecting the messages it accepts."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(free_port())

    class Handler:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
            server.inbox.add(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


class JsonServer:
    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self.httpd = httpd
        self.inbox = Inbox()
        self.status = 200

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def payloads(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        return self.inbox.wait_for(count, timeout)


@contextmanager
def post_server(handle: Callable[[str, dict[str, str], bytes], int], name: str) -> Iterator[ThreadingHTTPServer]:
    """An HTTP server on loopback (stdlib, a thread): each POST is ``handle(path, headers, body)``, which
    returns the status to answer (an empty body)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            status = handle(self.path, dict(self.headers.items()), self.rfile.read(length))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@contextmanager
def json_server() -> Iterator[JsonServer]:
    """An HTTP server on loopback collecting the JSON bodies POSTed to it."""
    holder: list[JsonServer] = []

    def handle(path: str, _headers: dict[str, str], raw: bytes) -> int:
        body = json.loads(raw or b"{}")
        body["_path"] = path
        server = holder[0]
        server.inbox.add(body)
        return server.status

    with post_server(handle, "json-server") as httpd:
        holder.append(JsonServer(httpd))
        yield holder[0]
