"""An ASGI app served by uvicorn on its own thread and event loop.

``start()`` binds the socket itself (so a busy port is a clear error at
once, and port 0 gives the free port chosen), then waits until uvicorn
accepts connections. ``stop()`` runs the ``before_stop`` callback on the
loop (the API ends its live streams there), asks uvicorn to exit and joins
the thread: no thread or socket outlives it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from bms.errors import DaemonError

GRACE = 3  # seconds open requests get to finish on stop


class HttpServer:
    """One uvicorn server for one ASGI app, on ``host:port`` (0 = a free port)."""

    def __init__(self, app: Any, host: str, port: int, *, name: str = "api-http") -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.name = name
        self.port = 0
        self.bound_host = host
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Where clients reach it: the address actually bound (``localhost`` may be ::1)."""
        host = self.bound_host
        if host in ("0.0.0.0", "::"):  # listening everywhere: loopback reaches it
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        sock = self._bind()
        self.bound_host, self.port = sock.getsockname()[:2]
        config = uvicorn.Config(
            self.app, log_config=None, access_log=False, lifespan="on", ws="none", http="httptools",
            loop="asyncio", timeout_graceful_shutdown=GRACE, server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                sock.close()
                raise DaemonError(f"the API server on {self.url} stopped while starting: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise DaemonError(f"the API server on {self.url} did not start within {timeout:g} s")
            self._thread.join(0.01)

    def _bind(self) -> socket.socket:
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self.host, self.requested_port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
            sock = socket.socket(family, kind, proto)
        except OSError as err:
            raise DaemonError(f"api.host {self.host!r}: {err.strerror or err}") from err
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(128)
        except OSError as err:
            sock.close()
            raise DaemonError(
                f"cannot listen on {self.host}:{self.requested_port}: {err.strerror or err}"
                " (another program uses the port? set api.port or --api-port)"
            ) from err
        sock.set_inheritable(False)
        return sock

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._serve(sock))
        except BaseException as err:  # SystemExit from uvicorn's startup failure included
            self._error = err
        finally:
            sock.close()

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        self.loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[sock])

    def stop(self, before_stop: Callable[[], None] | None = None, timeout: float = GRACE + 5.0) -> None:
        server, thread, loop = self._server, self._thread, self.loop
        if server is None or thread is None:
            return
        if before_stop is not None and loop is not None and thread.is_alive():
            try:
                loop.call_soon_threadsafe(before_stop)
            except RuntimeError:  # the loop has already closed
                pass
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(2.0)
        self._server = self._thread = None
        self.loop = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
