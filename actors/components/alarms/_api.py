"""The alarm engine's slice of the API: ``/api/alarms``.

Alarm ids hold ``/`` and ``:`` (``ahu1/sat:high``): a single alarm is
``GET /api/alarms/{id}`` with the id as the rest of the path; the actions
take it in their body.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Protocol

import msgspec
from litestar import Request, Router, get, post
from litestar.params import Body, Parameter
from litestar.response import Stream

from actors.components.alarms._engine import CloseAlarmFeed, OpenAlarmFeed
from bms.alarms import (
    AckAlarms,
    AlarmDefinition,
    AlarmEvent,
    AlarmHistory,
    AlarmView,
    DefineAlarm,
    GetAlarm,
    ListAlarms,
    RemoveAlarm,
    Severity,
    ShelveAlarm,
    UnshelveAlarm,
)
from bms.alarms._feed import AlarmFeed
from bms.api import MAX_DURATION, parse_duration, parse_time
from bms.api.routing import Services, Under, error_responses, feed_events, identity_of, requires
from bms.errors import ConfigError

SERVICE = "alarms"
KEEPALIVE_S = 15.0


class AckBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Acknowledge ``alarm_ids``, or (``all``) every unacknowledged alarm under ``under`` / of ``severity``."""

    alarm_ids: list[str] = []
    all: bool = False
    under: str | None = None
    severity: Severity | None = None


class ShelveBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Shelve ``alarm_id`` for ``duration`` (``2h``, or seconds) or until ``until`` (a time spec), with a reason."""

    alarm_id: str
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    duration: str | float | None = None
    until: str | float | None = None


class AlarmIdBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    alarm_id: str


class DefineBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    definition: AlarmDefinition


class AlarmsGateway(Protocol):
    async def ask(self, message: Any) -> Any: ...


class ServicesAlarms:
    """The gateway over the running site: the ``alarms`` service."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def ask(self, message: Any) -> Any:
        return await self.services.ask(SERVICE, message)


def shelve_until(body: ShelveBody, now: float) -> float:
    """When a shelve ends: ``duration`` from now, or ``until``; exactly one of them."""
    if (body.duration is None) == (body.until is None):
        raise ConfigError("give the shelve a duration or an end time (one of them)")
    if body.duration is not None:
        seconds = float(body.duration) if isinstance(body.duration, (int, float)) else parse_duration(body.duration)
        if not 0 < seconds <= MAX_DURATION:
            raise ConfigError(f"duration: must be above 0 and at most {MAX_DURATION:g} s, got {seconds:g}")
        return now + seconds
    assert body.until is not None
    return float(body.until) if isinstance(body.until, (int, float)) else parse_time(body.until, now)


def alarms_router(gateway: AlarmsGateway) -> Router:
    @get("/", operation_id="listAlarms", **requires("read"), responses=error_responses(400, 503))
    async def list_alarms(active: Annotated[bool, Parameter(description="only alarms that are not normal")] = False,
                          severity: Annotated[Severity | None, Parameter(description="low, medium, high or critical")] = None,
                          under: Under = None) -> list[AlarmView]:
        """Alarms of the site (``active``: those not normal), by severity and equipment subtree."""
        return list(await gateway.ask(ListAlarms(active=active, severity=severity, under=under)))

    @get("/history", operation_id="alarmHistory", **requires("read"), responses=error_responses(400, 503))
    async def history(since: Annotated[str, Parameter(description="from this time (7d, yesterday, 13:00...)")] = "-7d",
                      until: Annotated[str | None, Parameter(description="up to this time")] = None,
                      alarm: Annotated[str | None, Parameter(description="only this alarm")] = None,
                      limit: Annotated[int, Parameter(description="at most this many events (the newest)",
                                                      ge=1, le=100_000)] = 1000) -> list[AlarmEvent]:
        """The alarm history (raised, cleared, acknowledged, shelved...), oldest first."""
        now = time.time()
        try:
            start = parse_time(since, now)
            end = parse_time(until, now) if until is not None else None
        except ConfigError as err:
            raise ConfigError(f"since/until: {err}") from None
        return list(await gateway.ask(AlarmHistory(since=start, until=end, alarm_id=alarm, limit=limit)))

    @get("/stream", operation_id="alarmStream", **requires("read"), media_type="text/event-stream",
         responses=error_responses(503))
    async def stream() -> Stream:
        """Live alarm events (Server-Sent Events): AlarmRaised, AlarmCleared, AlarmAcknowledged, AlarmShelved,
        AlarmUnshelved, each as it happens (none coalesced)."""
        feed = AlarmFeed(asyncio.get_running_loop())
        await gateway.ask(OpenAlarmFeed(feed))
        return Stream(feed_events(feed, lambda: gateway.ask(CloseAlarmFeed(feed)), KEEPALIVE_S), media_type="text/event-stream",
                      headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @get("/{alarm_id:path}", operation_id="getAlarm", **requires("read"), responses=error_responses(404, 503))
    async def alarm(alarm_id: Annotated[str, Parameter(description="the alarm id, e.g. ahu1/sat:high")]) -> AlarmView:
        """One alarm: state, who acknowledged or shelved it, when."""
        view: AlarmView = await gateway.ask(GetAlarm(alarm_id=alarm_id.lstrip("/")))
        return view

    @post("/ack", operation_id="ackAlarms", **requires("alarms"),
          status_code=200, responses=error_responses(400, 404, 413, 503))
    async def ack(request: Request[Any, Any, Any], data: Annotated[AckBody, Body()]) -> list[AlarmView]:
        """Acknowledge alarms (all or none: an unknown or normal one refuses the lot)."""
        if not data.alarm_ids and not data.all:
            raise ConfigError("name the alarms to acknowledge, or ask for all of them")
        return list(await gateway.ask(AckAlarms(alarm_ids=tuple(data.alarm_ids), all_matching=data.all,
                                                under=data.under, severity=data.severity, user=identity_of(request).user)))

    @post("/shelve", operation_id="shelveAlarm", **requires("alarms"),
          status_code=200, responses=error_responses(400, 404, 413, 503))
    async def shelve(request: Request[Any, Any, Any], data: Annotated[ShelveBody, Body()]) -> AlarmView:
        """Set an alarm aside until a time, with a reason: it does not notify and comes back by itself."""
        until = shelve_until(data, time.time())
        view: AlarmView = await gateway.ask(ShelveAlarm(alarm_id=data.alarm_id, until=until, reason=data.reason,
                                                        user=identity_of(request).user))
        return view

    @post("/unshelve", operation_id="unshelveAlarm", **requires("alarms"),
          status_code=200, responses=error_responses(400, 404, 413, 503))
    async def unshelve(request: Request[Any, Any, Any], data: Annotated[AlarmIdBody, Body()]) -> AlarmView:
        """Bring a shelved alarm back now."""
        view: AlarmView = await gateway.ask(UnshelveAlarm(alarm_id=data.alarm_id, user=identity_of(request).user))
        return view

    @post("/define", operation_id="defineAlarm", **requires("system"),
          status_code=200, responses=error_responses(400, 413, 503))
    async def define(request: Request[Any, Any, Any], data: Annotated[DefineBody, Body()]) -> AlarmView:
        """Add or replace an alarm at run time (kept in alarms.db)."""
        view: AlarmView = await gateway.ask(DefineAlarm(definition=data.definition, user=identity_of(request).user))
        return view

    @post("/remove", operation_id="removeAlarm", **requires("system"),
          status_code=200, responses=error_responses(400, 404, 413, 503))
    async def remove(request: Request[Any, Any, Any], data: Annotated[AlarmIdBody, Body()]) -> bool:
        """Remove an alarm defined at run time (its history stays)."""
        return bool(await gateway.ask(RemoveAlarm(alarm_id=data.alarm_id, user=identity_of(request).user)))

    return Router("/api/alarms", route_handlers=[list_alarms, history, stream, alarm, ack, shelve, unshelve, define, remove],
                  tags=["alarms"])
