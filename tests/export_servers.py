"""Real targets on loopback for the export tests: VictoriaMetrics, PostgreSQL, a webhook receiver.

* :func:`victoria` starts ``/usr/bin/victoria-metrics`` (Debian's package) on a
  free port with its own storage directory; :meth:`Victoria.series` reads the
  samples back through its export API (forcing a flush first, polling with a
  deadline). Tests skip, naming the reason, only when the binary is absent.
* :func:`pg_schema` gives a fresh schema in the machine's PostgreSQL (database
  ``test``) and drops it afterwards.
* :func:`hook_server` records every POST with its headers and raw body.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.notify_servers import Inbox, free_port, post_server

VM_BINARY = "/usr/bin/victoria-metrics"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def need_victoria() -> None:
    if shutil.which(VM_BINARY) is None:
        pytest.skip(f"{VM_BINARY} is not installed (apt-get install victoria-metrics; .ci/run installs it)")


class Victoria:
    def __init__(self, storage: Path, port: int | None = None) -> None:
        self.storage = storage
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [VM_BINARY, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.storage}",
             "-retentionPeriod=100y", "-search.latencyOffset=0s", "-search.disableCache",
             "-dedup.minScrapeInterval=1ms"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"victoria-metrics exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise AssertionError("victoria-metrics did not answer /health within 30 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def export(self, match: str = '{__name__=~"bms_.*"}') -> list[dict[str, Any]]:
        httpx.get(f"{self.url}/internal/force_flush", timeout=10)
        answer = httpx.get(f"{self.url}/api/v1/export", params={"match[]": match, "start": "0"}, timeout=10)
        answer.raise_for_status()
        return [json.loads(line) for line in answer.text.splitlines() if line.strip()]

    def samples(self, match: str = '{__name__=~"bms_.*"}') -> dict[str, list[tuple[float, float]]]:
        """point -> [(ts s, value)] sorted by time."""
        out: dict[str, list[tuple[float, float]]] = {}
        for series in self.export(match):
            point = series["metric"].get("point", "?")
            pairs = [(ts / 1000.0, float(v)) for ts, v in zip(series["timestamps"], series["values"], strict=True)]
            out.setdefault(point, []).extend(pairs)
        return {k: sorted(v) for k, v in out.items()}

    def wait_samples(self, count: int, match: str = '{__name__=~"bms_.*"}',
                     timeout: float = 30.0) -> dict[str, list[tuple[float, float]]]:
        """Poll until ``count`` samples in all are visible (VictoriaMetrics shows writes after a moment)."""
        deadline = time.monotonic() + timeout
        found: dict[str, list[tuple[float, float]]] = {}
        while time.monotonic() < deadline:
            found = self.samples(match)
            if sum(len(v) for v in found.values()) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"expected {count} samples in VictoriaMetrics, found "
                             f"{sum(len(v) for v in found.values())}")


@contextmanager
def victoria(storage: Path) -> Iterator[Victoria]:
    need_victoria()
    vm = Victoria(storage)
    vm.start()
    try:
        yield vm
    finally:
        vm.stop()


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema in PostgreSQL's ``test`` database, dropped at the end."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
    except psycopg.OperationalError as err:
        pytest.fail(f"PostgreSQL at {PG_DSN} is needed (the machine's server, trust auth): {err}")
    try:
        yield name
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def pg_rows(schema: str, table: str = "bms_samples") -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        return conn.execute(f"SELECT point_id, extract(epoch FROM time)::float8, value, state FROM {schema}.{table}"
                            " ORDER BY point_id, time").fetchall()


class Hook:
    """What a webhook receiver got: (path, headers, raw body) per request; ``statuses`` to answer, in turn."""

    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self.httpd = httpd
        self.inbox = Inbox()
        self.statuses: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def requests(self, count: int = 1, timeout: float = 10.0) -> list[tuple[str, dict[str, str], bytes]]:
        return self.inbox.wait_for(count, timeout)


@contextmanager
def hook_server() -> Iterator[Hook]:
    """A webhook receiver on loopback: every request kept raw, answered with ``statuses`` in turn (then 200)."""
    holder: list[Hook] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> int:
        hook = holder[0]
        status = hook.statuses.pop(0) if hook.statuses else 200
        hook.inbox.add((path, headers, body, status))
        return status

    with post_server(handle, "hook-server") as httpd:
        holder.append(Hook(httpd))
        yield holder[0]
