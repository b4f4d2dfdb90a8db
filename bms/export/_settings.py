"""``[influx]``, ``[postgres]`` and ``[webhooks]``: the export targets and webhook endpoints of a site.

Each section lists its targets by name; every target has its own outbox
(``exports/<name>.db`` under the data directory) and its own sender, so one
that is down never holds up another. A webhook endpoint's ``events`` are
kind names or prefixes (``alarm``, ``alarm.raised``, ``device.down``,
``fdd``, ``health``); an unknown one is one line with a did-you-mean.
"""

from __future__ import annotations

import difflib
from typing import Annotated

import msgspec
from msgspec import Meta

Name = Annotated[str, Meta(pattern=r"^[\w.-]+$", description="a name of letters, digits, '_', '.' or '-'")]
HttpUrl = Annotated[str, Meta(pattern=r"^https?://", description="an http:// or https:// URL")]
Seconds = Annotated[float, Meta(gt=0)]
Batch = Annotated[int, Meta(ge=1, le=100_000)]
SqlName = Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", description="an SQL identifier")]

#: Webhook event kinds, by the family a filter may name alone.
EVENT_KINDS: tuple[str, ...] = (
    "alarm.raised", "alarm.acknowledged", "alarm.cleared",
    "device.down", "device.up",
    "fdd.fault", "fdd.cleared",
    "health.changed",
)


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Backoff(_Strict, frozen=True):
    """After the n-th failed attempt in a row wait ``initial * factor ** (n - 1)`` s, at most ``max_delay``."""

    initial: Seconds = 1.0
    factor: Annotated[float, Meta(ge=1.0)] = 2.0
    max_delay: Seconds = 60.0

    def delay(self, failures: int) -> float:
        return float(min(self.max_delay, self.initial * self.factor ** max(0, failures - 1)))


class InfluxTarget(_Strict, frozen=True):
    """An InfluxDB-compatible server (InfluxDB 2, VictoriaMetrics...) written through its /api/v2/write."""

    name: Name
    url: HttpUrl
    bucket: str = "bms"
    org: str = "bms"
    token: str = ""
    measurement: str = "bms"
    batch: Batch = 5000
    timeout: Seconds = 10.0
    enabled: bool = True


class PostgresTarget(_Strict, frozen=True):
    """A PostgreSQL (TimescaleDB when the extension is there) database, written with COPY."""

    name: Name
    dsn: Annotated[str, Meta(pattern=r"^postgres(ql)?://", description="a postgresql:// connection URL")]
    schema: SqlName = "public"
    table: SqlName = "bms_samples"
    hypertable: bool = True  # a TimescaleDB hypertable when the extension is installed
    batch: Batch = 5000
    timeout: Seconds = 10.0
    enabled: bool = True


class _Targets(_Strict, frozen=True):
    retry: Backoff = Backoff()
    tick: Seconds = 1.0  # how often retries are looked at and the status reported


def _twice(names: list[str]) -> list[tuple[str, str]]:
    return [(f"targets[{i}].name", f"a second target named {n!r}") for i, n in enumerate(names) if n in names[:i]]


class InfluxSection(_Targets, frozen=True):
    """``[influx]`` in bms.toml."""

    targets: list[InfluxTarget] = []

    def config_problems(self) -> list[tuple[str, str]]:
        return _twice([t.name for t in self.targets])


class PostgresSection(_Targets, frozen=True):
    """``[postgres]`` in bms.toml."""

    targets: list[PostgresTarget] = []

    def config_problems(self) -> list[tuple[str, str]]:
        return _twice([t.name for t in self.targets])


class WebhookEndpoint(_Strict, frozen=True):
    """A URL that receives bms events as signed JSON (see :mod:`bms.export._webhook`)."""

    name: Name
    url: HttpUrl
    secret: str = ""  # the HMAC-SHA256 key; empty: unsigned
    events: list[str] = msgspec.field(default_factory=lambda: ["alarm", "device", "fdd", "health"])
    timeout: Seconds = 10.0
    enabled: bool = True


class WebhooksSection(_Strict, frozen=True):
    """``[webhooks]`` in bms.toml."""

    endpoints: list[WebhookEndpoint] = []
    retry: Backoff = Backoff(initial=5.0, factor=2.0, max_delay=600.0)
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 8
    tick: Seconds = 1.0
    keep_days: Seconds = 30.0

    def config_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        names = [e.name for e in self.endpoints]
        families = sorted({k.split(".")[0] for k in EVENT_KINDS})
        for i, e in enumerate(self.endpoints):
            if e.name in names[:i]:
                problems.append((f"endpoints[{i}].name", f"a second endpoint named {e.name!r}"))
            for j, kind in enumerate(e.events):
                if kind not in EVENT_KINDS and kind not in families and kind != "*":
                    close = difflib.get_close_matches(kind, [*EVENT_KINDS, *families], n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else f"; kinds: {', '.join(EVENT_KINDS)}"
                    problems.append((f"endpoints[{i}].events[{j}]", f"no event kind {kind!r}{hint}"))
        return problems


def wants(filters: list[str], kind: str) -> bool:
    """Whether an endpoint with ``filters`` receives events of ``kind`` (a kind, its family or ``*``)."""
    return any(f in ("*", kind) or kind.startswith(f + ".") for f in filters)
