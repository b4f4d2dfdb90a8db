"""What a component's slice of the API builds its routes with (imports Litestar; the client never needs it).

A component's ``api`` factory returns a ``litestar.Router`` under
``/api/<component>``; its handlers take and return msgspec Structs, declare
their error statuses with :func:`error_responses` (every BmsError a
gateway raises becomes ``{"error": ...}`` with its status) and reach the
running site only through their own gateway over :class:`Services`.
"""

from bms.api._errors import error_responses
from bms.api._gateway import Services
from bms.api._params import DeviceId, NodeId, PointList, Protocol, Under
from bms.errors import ServiceUnavailable

ProtocolName = Protocol
"""Query parameter: bacnet, modbus or virtual (``Protocol`` would shadow typing's)."""

__all__ = ["DeviceId", "NodeId", "PointList", "ProtocolName", "ServiceUnavailable", "Services", "Under",
           "error_responses"]
