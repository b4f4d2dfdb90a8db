"""The daemon's local HTTP API: a Litestar app over a :class:`Gateway`.

The app knows nothing of actors: it calls the gateway's coroutines and
encodes the msgspec Structs they return (``bms.messages`` replies and the
API's own Structs below). ``create_app`` imports Litestar on first use, so a
client that only needs the wire Structs (the CLI) starts fast.

Routes (all under ``/api``, JSON, bearer token and a declared permission
(:mod:`bms.api._auth`) except the OpenAPI document and the login; every
request that changes state audited before its answer, :mod:`bms.api._audit`):
health, log-level, nodes (list, tree, one), points (list, read, write,
relinquish, priority array), history (series, csv), devices (list, one,
discover, accept, ignore), stream (Server-Sent Events), openapi.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bms.api._audit import Auditor
from bms.api._auth import Authenticator, StaticToken
from bms.api._feed import EventFeed, FeedEvent
from bms.api._gateway import Gateway, Services
from bms.api._timespec import MAX_DURATION, TIME_HELP, parse_duration, parse_time
from bms.api._tree import build_tree
from bms.api._wire import (
    OPENAPI_PATH,
    AcceptBody,
    DiscoverBody,
    ErrorBody,
    HealthReport,
    HistorySample,
    HistorySeries,
    LogLevel,
    LogLevelBody,
    LogLevelSet,
    NodeTree,
    RelinquishBody,
    Rollup,
    RollupBucket,
    WriteBody,
)
from bms.errors import ServiceUnavailable  # in the one tree (an Unavailable); named here as before
from bms.supervision import ComponentHealth  # the health board's entry is the wire form

if TYPE_CHECKING:
    from litestar import Litestar, Router




def create_app(
    gateway: Gateway,
    auth: str | Authenticator,
    max_body_bytes: int,
    *,
    keepalive: float = 15.0,
    now: Callable[[], float] = time.time,
    routers: Sequence[Router] = (),
    message_schemas: Mapping[str, Any] | None = None,
    auditor: Auditor | None = None,
) -> Litestar:
    """The ASGI app serving ``gateway`` to the callers ``auth`` knows (a token string: one admin token).

    ``auditor`` records every state-changing request before it is answered
    (None: no audit log).

    Bodies over ``max_body_bytes`` are refused (413); the live stream sends a
    keep-alive comment after ``keepalive`` idle seconds; ``now`` is the clock
    that relative history times (``-1h``) count from. ``routers`` are the
    components' slices of the API (each over its own gateway, behind the
    same token); ``message_schemas`` (JSON schemas by name, from the
    platform's message catalog) join the document's components.
    """
    from bms.api._app import build_app

    return build_app(gateway, auth, max_body_bytes, keepalive=keepalive, now=now, routers=routers,
                     message_schemas=message_schemas, auditor=auditor)


__all__ = [
    "MAX_DURATION",
    "OPENAPI_PATH",
    "TIME_HELP",
    "AcceptBody",
    "Auditor",
    "Authenticator",
    "ComponentHealth",
    "DiscoverBody",
    "ErrorBody",
    "EventFeed",
    "FeedEvent",
    "Gateway",
    "HealthReport",
    "HistorySample",
    "HistorySeries",
    "LogLevel",
    "LogLevelBody",
    "LogLevelSet",
    "NodeTree",
    "RelinquishBody",
    "Rollup",
    "RollupBucket",
    "ServiceUnavailable",
    "Services",
    "StaticToken",
    "WriteBody",
    "build_tree",
    "create_app",
    "parse_duration",
    "parse_time",
]
