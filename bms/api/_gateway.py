"""What the API needs from the running site: the :class:`Gateway` protocol.

The web app calls these coroutines and nothing else; the daemon implements
them by asking its actors (``actors.components.api``), the tests with
an in-memory site. Refusals are :class:`~bms.errors.BmsError`\\ s:
``NotFound`` (404), ``WriteRefused`` and ``Conflict`` (409),
:class:`~bms.errors.ServiceUnavailable` (503) when the component that would
answer is not running; the whole table is in ``bms.api._errors``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, Protocol

from bms.api._feed import EventFeed
from bms.api._wire import HealthReport, HistorySeries, LogLevel
from bms.messages import (
    ListNodes,
    ListPoints,
    PointState,
    PriorityArrayView,
    QueryHistory,
    RelinquishPoint,
    WriteAccepted,
    WritePoint,
)

if TYPE_CHECKING:  # bms.model brings SQLAlchemy, which the client (and the CLI) need not load
    from bms.model import Node


class Services(Protocol):
    """What a component's slice of the API is given: asking a named service of the running site.

    ``ask`` answers the service's reply, or raises its refusal (a BmsError)
    or :class:`ServiceUnavailable` when the service is not running or does
    not answer within ``timeout`` seconds (default: the API's).
    """

    async def ask(self, service: str, message: Any, timeout: float | None = None) -> Any: ...


class Gateway(Protocol):
    """The running site as the API sees it. Every method may raise a BmsError."""

    async def health(self) -> HealthReport: ...

    async def nodes(self, query: ListNodes) -> list[Node]: ...

    async def node(self, node_id: str) -> Node: ...

    async def points(self, query: ListPoints) -> list[PointState]: ...

    async def point(self, point_id: str) -> PointState: ...

    async def priority_array(self, point_id: str) -> PriorityArrayView: ...

    async def levels(self, point_id: str) -> PriorityArrayView:
        """Our 16 levels only (no device read): who holds what, for permissions and the audit log."""
        ...

    async def write(self, command: WritePoint, wait: float = 0.0) -> WriteAccepted:
        """Command a point; with ``wait`` > 0 s, wait that long for the device's answer (``device``)."""
        ...

    async def levels_and_write(self, command: WritePoint,
                               wait: float = 0.0) -> tuple[PriorityArrayView | None, WriteAccepted]:
        """The point's levels just before ``command`` (None if it has none) and :meth:`write`'s answer:
        for the audit log's "before" without a round trip more."""
        ...

    async def relinquish(self, command: RelinquishPoint, wait: float = 0.0) -> WriteAccepted:
        """Release a level; with ``wait`` > 0 s, wait for the device's answer as :meth:`write` does."""
        ...

    async def history(self, query: QueryHistory) -> HistorySeries:
        """Samples (``query.rollup`` None) or buckets of the tier asked ("auto": by span)."""
        ...

    async def history_csv(self, query: QueryHistory) -> AsyncGenerator[str, None]:
        """The same range as CSV lines, header first, streamed (the route applies ``limit``).

        Refusals (unknown point, no history) are raised here, before any line.
        """
        ...

    async def open_feed(self, points: frozenset[str] | None, scans: frozenset[str] = frozenset()) -> EventFeed:
        """A feed of ValueChanged/StatusChanged for ``points`` (None: all), and of the
        DiscoveryProgress of ``scans``, live from now."""
        ...

    def close_feed(self, feed: EventFeed) -> None:
        """Stop feeding ``feed``; must not block (it runs as the client goes away)."""
        ...

    async def set_log_level(self, level: LogLevel) -> None: ...

    async def aclose(self) -> None:
        """Release what the gateway holds (history readers); the app is stopping."""
        ...
