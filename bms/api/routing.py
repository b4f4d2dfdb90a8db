"""What a component's slice of the API builds its routes with (imports Litestar; the client never needs it).

A component's ``api`` factory returns a ``litestar.Router`` under
``/api/<component>``; its handlers take and return msgspec Structs, declare
their error statuses with :func:`error_responses` (every BmsError a
gateway raises becomes ``{"error": ...}`` with its status) and reach the
running site only through their own gateway over :class:`Services`.

Every route declares the permission it needs (``**requires("devices")``,
which the access guard checks and the OpenAPI document shows); a route
that declares none is refused to everyone. A state-changing route is
audited without doing anything; :func:`note` adds the values before and
after, and :func:`identity_of` tells who is calling.
"""

from bms.api._audit import note
from bms.api._auth import public, requires
from bms.api._errors import error_responses
from bms.api._gateway import Services
from bms.api._guard import identity_of
from bms.api._params import DeviceId, NodeId, PointList, Protocol, Under
from bms.api._stream import feed_events
from bms.errors import ServiceUnavailable

ProtocolName = Protocol
"""Query parameter: bacnet, modbus or virtual (``Protocol`` would shadow typing's)."""

__all__ = [
           "DeviceId",
           "NodeId",
           "PointList",
           "ProtocolName",
           "ServiceUnavailable",
           "Services",
           "Under",
           "error_responses",
           "feed_events",
           "identity_of",
           "note",
           "public",
           "requires",
]
