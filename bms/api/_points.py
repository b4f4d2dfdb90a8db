"""Live points: read, list, command with priority, relinquish, priority array.

A command carries the caller's user (its priority-array level records who
holds it); the caller's role decides the highest priority it may command,
the subtree it may command in, and whether it may release a level another
user holds. The audit entry gets the level before and after.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import Body

from bms.api._audit import note
from bms.api._auth import requires
from bms.api._errors import error_responses
from bms.api._gateway import Gateway
from bms.api._guard import identity_of
from bms.api._params import Device, Key, Pattern, Tags, Under
from bms.api._wire import RelinquishBody, WriteBody
from bms.auth._roles import Identity, command_refusal, release_refusal
from bms.errors import NotFound, PermissionDenied
from bms.messages import (
    ListPoints,
    PointState,
    PriorityArrayView,
    RelinquishPoint,
    Value,
    WriteAccepted,
    WritePoint,
)

MAX_DEPTH = 32  # parents walked up from a point to check a role's scope


def _held(view: PriorityArrayView | None, priority: int) -> dict[str, Any]:
    """What a level holds and who holds it (empty for a point without levels: the command says why)."""
    if view is None or not 1 <= priority <= len(view.levels):
        return {}
    return {"priority": priority, "value": view.levels[priority - 1], "user": view.users[priority - 1] or None}


async def _level(gateway: Gateway, point_id: str, priority: int) -> dict[str, Any]:
    try:
        return _held(await gateway.levels(point_id), priority)
    except NotFound:
        return {}


async def _ancestry(gateway: Gateway, point_id: str) -> list[str]:
    chain, node_id = [point_id], point_id
    for _ in range(MAX_DEPTH):
        try:
            parent = (await gateway.node(node_id)).parent
        except NotFound:
            break
        if not parent:
            break
        chain.append(parent)
        node_id = parent
    return chain


async def _may_command(gateway: Gateway, who: Identity, point_id: str, priority: int) -> None:
    ancestry = await _ancestry(gateway, point_id) if who.role.scope is not None else [point_id]
    refusal = command_refusal(who, priority, ancestry)
    if refusal:
        raise PermissionDenied(refusal)


def points_router(gateway: Gateway, *, before: bool = True) -> Router:
    """The points routes; ``before``: read the level before a write for the audit log (asked with the write)."""

    @get("/", operation_id="listPoints", **requires("read"), responses=error_responses(404, 503))
    async def list_points(under: Under = None, tag: Tags = (), pattern: Pattern = None) -> list[PointState]:
        """Points under a node, carrying all the tags, whose id matches a glob."""
        return await gateway.points(ListPoints(under=under, tags=tag, pattern=pattern))

    @get("/{device:str}/{key:str}", operation_id="readPoint", **requires("read"), responses=error_responses(404, 503))
    async def read(device: Device, key: Key) -> PointState:
        """A point's value, status flags and what commands it."""
        return await gateway.point(f"{device}/{key}")

    @post("/{device:str}/{key:str}/write", operation_id="writePoint", **requires("write-points"), status_code=200,
          responses=error_responses(404, 409, 413, 502, 503, 504))
    async def write(request: Request[Any, Any, Any], device: Device, key: Key,
                    data: Annotated[WriteBody, Body()]) -> WriteAccepted:
        """Command a point at a priority; ``value`` null relinquishes that level,
        ``duration`` makes a timed override, ``wait`` waits for the device's answer.
        The role's max priority and scope apply."""
        who, point_id = identity_of(request), f"{device}/{key}"
        after: dict[str, Value | float | None] = {"priority": data.priority, "value": data.value, "user": who.user}
        if data.duration is not None:
            after["duration"] = data.duration
        note(request.scope, after=after)
        await _may_command(gateway, who, point_id, data.priority)
        command = WritePoint(point_id=point_id, value=data.value, priority=data.priority, duration=data.duration,
                             user=who.user, request_id=data.request_id or uuid.uuid4().hex)
        if before:
            view, accepted = await gateway.levels_and_write(command, wait=data.wait)
            note(request.scope, before=_held(view, data.priority))
        else:
            accepted = await gateway.write(command, wait=data.wait)
        note(request.scope, after={**after, "effective": accepted.effective})
        return accepted

    @post("/{device:str}/{key:str}/relinquish", operation_id="relinquishPoint", **requires("write-points"),
          status_code=200, responses=error_responses(404, 409, 413, 502, 503, 504))
    async def relinquish(request: Request[Any, Any, Any], device: Device, key: Key,
                         data: Annotated[RelinquishBody | None, Body()] = None) -> WriteAccepted:
        """Release a priority level (8 unless the body names another); ``wait`` waits for the device's answer.
        A level another user holds needs the permission release-others."""
        body = data or RelinquishBody()
        who, point_id = identity_of(request), f"{device}/{key}"
        await _may_command(gateway, who, point_id, body.priority)
        held = await _level(gateway, point_id, body.priority)
        note(request.scope, before=held)
        refusal = release_refusal(who, held.get("user") or "")
        if refusal:
            raise PermissionDenied(refusal)
        accepted = await gateway.relinquish(RelinquishPoint(
            point_id=point_id, priority=body.priority, user=who.user,
            request_id=body.request_id or uuid.uuid4().hex,
        ), wait=body.wait)
        note(request.scope, after={"priority": body.priority, "value": None, "effective": accepted.effective})
        return accepted

    @get("/{device:str}/{key:str}/priority", operation_id="priorityArray", **requires("read"),
         responses=error_responses(404, 503))
    async def priority(device: Device, key: Key) -> PriorityArrayView:
        """The 16 priority levels, who holds each, their expiry and the effective value."""
        return await gateway.priority_array(f"{device}/{key}")

    return Router("/api/points", route_handlers=[list_points, read, write, relinquish, priority], tags=["points"])
