"""The API's own bodies and replies; everything else on the wire is in bms.messages.

These Structs import no web framework, so the client (and the CLI behind
it) decodes replies without loading the server.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from bms.api._timespec import MAX_DURATION
from bms.messages import Value
from bms.supervision import ComponentHealth

Priority = Annotated[int, msgspec.Meta(ge=1, le=16, description="1 highest .. 16 lowest")]
LogLevel = Literal["debug", "info", "warning", "error"]
Rollup = Literal["raw", "auto", "15m", "1h", "1d"]
OPENAPI_PATH = "/api/openapi.json"


class _Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class ErrorBody(_Body, frozen=True):
    """Every error the API returns: one line saying what went wrong."""

    error: str


# ------------------------------------------------------------------- bodies


RequestId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""A command's id, minted by the caller (the API mints one when the body has none): it names the
DeviceWrite and the WriteResult of that command, whatever restarted in between."""


class WriteBody(_Body, frozen=True):
    """Command a point; ``duration`` (seconds, at most 366 days) makes a timed override; ``wait`` (seconds, at most 60)
    waits for the device's answer, given as ``device`` in the reply; ``request_id`` names the command."""

    value: Value
    priority: Priority = 8
    duration: Annotated[float, msgspec.Meta(gt=0, le=MAX_DURATION)] | None = None
    wait: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.0
    request_id: RequestId | None = None


class RelinquishBody(_Body, frozen=True):
    """Release a level; ``wait`` and ``request_id`` as for a write."""

    priority: Priority = 8
    wait: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.0
    request_id: RequestId | None = None


class DiscoverBody(_Body, frozen=True):
    """A discovery scan; ``low``/``high`` bound BACnet instances or Modbus unit ids (``units``: a Modbus probe's
    list; ``network``: its HOST:PORT)."""

    protocol: Literal["bacnet", "modbus"] = "bacnet"
    low: Annotated[int, msgspec.Meta(ge=0, le=4_194_303)] | None = None
    high: Annotated[int, msgspec.Meta(ge=0, le=4_194_303)] | None = None
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 3.0
    network: str | None = None
    scan: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")] = ""  # to follow on the stream
    units: Annotated[tuple[Annotated[int, msgspec.Meta(ge=0, le=247)], ...], msgspec.Meta(max_length=248)] = ()


class AcceptBody(_Body, frozen=True):
    profile: str | None = None
    equip_id: str | None = None


class LogLevelBody(_Body, frozen=True):
    level: LogLevel


# ------------------------------------------------------------------ replies


class HealthReport(_Body, frozen=True):
    """``status`` is Healthy, Degraded or Unknown for the site as a whole."""

    status: str
    components: tuple[ComponentHealth, ...]


class NodeTree(_Body, frozen=True):
    """A node and everything under it (``GET /api/nodes/{id}`` has the full node)."""

    id: str
    type: str
    name: str
    children: tuple[NodeTree, ...] = ()


class LogLevelSet(_Body, frozen=True):
    level: LogLevel


class HistorySample(_Body, frozen=True):
    """One recorded value of a point."""

    ts: float
    value: Value


class RollupBucket(_Body, frozen=True):
    """One period of a rollup: ``ts`` is the period's start, ``last`` its last value."""

    ts: float
    avg: float | None
    min: float | None
    max: float | None
    count: int
    last: float | None = None


class HistorySeries(_Body, frozen=True):
    """A point's history over ``[start, end)``: raw samples or rollup buckets.

    ``rollup`` is ``raw`` for samples, else the tier the buckets come from.
    """

    point_id: str
    start: float
    end: float
    rollup: str
    samples: tuple[HistorySample, ...] = ()
    buckets: tuple[RollupBucket, ...] = ()
