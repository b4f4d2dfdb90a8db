"""Live points: read, list, command with priority, relinquish, priority array."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Router, get, post
from litestar.params import Body

from bms.api._errors import error_responses
from bms.api._gateway import Gateway
from bms.api._params import Device, Key, Pattern, Tags, Under
from bms.api._wire import RelinquishBody, WriteBody
from bms.messages import ListPoints, PointState, PriorityArrayView, RelinquishPoint, WriteAccepted, WritePoint

USER = "api"


def points_router(gateway: Gateway) -> Router:
    @get("/", operation_id="listPoints", responses=error_responses(404, 503))
    async def list_points(under: Under = None, tag: Tags = (), pattern: Pattern = None) -> list[PointState]:
        """Points under a node, carrying all the tags, whose id matches a glob."""
        return await gateway.points(ListPoints(under=under, tags=tag, pattern=pattern))

    @get("/{device:str}/{key:str}", operation_id="readPoint", responses=error_responses(404, 503))
    async def read(device: Device, key: Key) -> PointState:
        """A point's value, status flags and what commands it."""
        return await gateway.point(f"{device}/{key}")

    @post("/{device:str}/{key:str}/write", operation_id="writePoint", status_code=200,
          responses=error_responses(404, 409, 413, 502, 503, 504))
    async def write(device: Device, key: Key, data: Annotated[WriteBody, Body()]) -> WriteAccepted:
        """Command a point at a priority; ``value`` null relinquishes that level,
        ``duration`` makes a timed override, ``wait`` waits for the device's answer."""
        return await gateway.write(WritePoint(
            point_id=f"{device}/{key}", value=data.value, priority=data.priority, duration=data.duration, user=USER,
            request_id=data.request_id or uuid.uuid4().hex,
        ), wait=data.wait)

    @post("/{device:str}/{key:str}/relinquish", operation_id="relinquishPoint", status_code=200,
          responses=error_responses(404, 409, 413, 502, 503, 504))
    async def relinquish(device: Device, key: Key, data: Annotated[RelinquishBody | None, Body()] = None) -> WriteAccepted:
        """Release a priority level (8 unless the body names another); ``wait`` waits for the device's answer."""
        body = data or RelinquishBody()
        return await gateway.relinquish(RelinquishPoint(
            point_id=f"{device}/{key}", priority=body.priority, user=USER,
            request_id=body.request_id or uuid.uuid4().hex,
        ), wait=body.wait)

    @get("/{device:str}/{key:str}/priority", operation_id="priorityArray", responses=error_responses(404, 503))
    async def priority(device: Device, key: Key) -> PriorityArrayView:
        """The 16 priority levels, their expiry and the effective value."""
        return await gateway.priority_array(f"{device}/{key}")

    return Router("/api/points", route_handlers=[list_points, read, write, relinquish, priority], tags=["points"])
