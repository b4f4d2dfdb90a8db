"""The schedule engine's slice of the API: ``/api/schedules``.

Reads need ``read``; every change needs ``schedules`` (and is audited by
the API's hook as the caller; the engine's own writes to the points are
audited as ``schedule:NAME``).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

import msgspec
from litestar import Request, Router, get, post
from litestar.params import Body, Parameter

from actors.components.schedules._device import PushBody
from actors.components.schedules._device import pull as device_pull
from actors.components.schedules._device import push as device_push
from bms.api.routing import DeviceId, Services, ServiceUnavailable, error_responses, identity_of, requires
from bms.schedules import DeviceSchedule, Schedule
from bms.schedules._spec import Assignment, ScheduleException, ScheduleName, Template, TimeValue, Value
from bms.schedules.messages import (
    AddException,
    AssignSchedule,
    CancelOverride,
    CreateSchedule,
    DeleteSchedule,
    GetSchedule,
    ListSchedules,
    OverrideSchedule,
    RemoveException,
    ScheduleBridges,
    ScheduleSummary,
    ScheduleView,
    SetOptimalStart,
    SetProgram,
    UnassignSchedule,
)

SERVICE = "schedules"
Name = Annotated[str, Parameter(description="the schedule's name")]


class CreateBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: ScheduleName
    template: Template | None = None


class ProgramBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The program of ``days`` (``mon``..``sun``, or ranges ``mon-fri``): ``entries`` replace it (``[]``: none)."""

    days: list[str]
    entries: list[TimeValue]


class ExceptionBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    exception: ScheduleException


class NameBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str


class PointBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    point: str


class OverrideBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``value`` until ``until``: ``22:00`` (the next one, site time), a duration (``2h``), a date and time
    (site time) or epoch seconds."""

    value: Value
    until: str | float


class OptimalStartBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    enabled: bool


class SchedulesGateway(Protocol):
    async def ask(self, message: Any) -> Any: ...


class ServicesSchedules:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def ask(self, message: Any) -> Any:
        return await self.services.ask(SERVICE, message)


def days_of(texts: list[str]) -> tuple[str, ...]:
    """``["mon-fri", "sun"]`` -> the weekdays, in order; a bad name is a ConfigError naming it."""
    from bms.errors import ConfigError
    from bms.schedules import WEEKDAYS

    found: list[str] = []
    for text in texts:
        for part in text.lower().replace(" ", "").split(","):
            first, _, last = part.partition("-")
            for day in (first, last or first):
                if day not in WEEKDAYS:
                    raise ConfigError(f"days: {day!r} is not a weekday ({', '.join(WEEKDAYS)}; ranges mon-fri)")
            a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            span = WEEKDAYS[a:b + 1] if a <= b else WEEKDAYS[a:] + WEEKDAYS[:b + 1]
            found += [d for d in span if d not in found]
    if not found:
        raise ConfigError("days: name at least one weekday")
    return tuple(d for d in WEEKDAYS if d in found)


def schedules_router(gateway: SchedulesGateway, services: Services | None = None) -> Router:
    """The slice; ``services`` (the daemon's) lets it read and write device schedules through the bridges."""

    async def ask(message: Any) -> Any:
        return await gateway.ask(message)

    def who(request: Request[Any, Any, Any]) -> str:
        return identity_of(request).user

    @get("/", operation_id="listSchedules", **requires("read"), responses=error_responses(503))
    async def list_schedules() -> list[ScheduleSummary]:
        """Every schedule: its value now, where it comes from, the next change, how many points it drives."""
        return list(await ask(ListSchedules()))

    @get("/{name:str}", operation_id="getSchedule", **requires("read"), responses=error_responses(400, 404, 503))
    async def schedule(name: Name, week: Annotated[str | None, Parameter(
            description="the first day of the 7-day preview (YYYY-MM-DD; default today)")] = None) -> ScheduleView:
        """A schedule: its program, assignments, override, a 7-day preview and each zone's optimal start."""
        view: ScheduleView = await ask(GetSchedule(name=name, week=week))
        return view

    @post("/", operation_id="createSchedule", **requires("schedules"), status_code=200,
          responses=error_responses(400, 409, 413, 503))
    async def create(request: Request[Any, Any, Any], data: Annotated[CreateBody, Body()]) -> ScheduleView:
        """A new schedule, empty or from a template (office, retail, school, 24x7)."""
        view: ScheduleView = await ask(CreateSchedule(name=data.name, template=data.template, user=who(request)))
        return view

    @post("/{name:str}/program", operation_id="setScheduleProgram", **requires("schedules"), status_code=200,
          responses=error_responses(400, 404, 413, 503))
    async def program(request: Request[Any, Any, Any], name: Name,
                      data: Annotated[ProgramBody, Body()]) -> ScheduleView:
        """Replace the program of some weekdays."""
        view: ScheduleView = await ask(SetProgram(name=name, days=days_of(data.days), entries=tuple(data.entries),
                                                  user=who(request)))
        return view

    @post("/{name:str}/exceptions", operation_id="addScheduleException", **requires("schedules"), status_code=200,
          responses=error_responses(400, 404, 413, 503))
    async def add_exception(request: Request[Any, Any, Any], name: Name,
                            data: Annotated[ExceptionBody, Body()]) -> ScheduleView:
        """Add (or replace, by name) an exception: dates with a program of their own and a priority."""
        view: ScheduleView = await ask(AddException(name=name, exception=data.exception, user=who(request)))
        return view

    @post("/{name:str}/exceptions/remove", operation_id="removeScheduleException", **requires("schedules"),
          status_code=200, responses=error_responses(400, 404, 413, 503))
    async def remove_exception(request: Request[Any, Any, Any], name: Name,
                               data: Annotated[NameBody, Body()]) -> ScheduleView:
        """Remove an exception by its name."""
        view: ScheduleView = await ask(RemoveException(name=name, exception=data.name, user=who(request)))
        return view

    @post("/{name:str}/assign", operation_id="assignSchedule", **requires("schedules"), status_code=200,
          responses=error_responses(400, 404, 413, 503))
    async def assign(request: Request[Any, Any, Any], name: Name,
                     data: Annotated[Assignment, Body()]) -> ScheduleView:
        """Let the schedule command points (ids, a tag query or a subtree) at a priority (default 16)."""
        view: ScheduleView = await ask(AssignSchedule(name=name, assignment=data, user=who(request)))
        return view

    @post("/{name:str}/unassign", operation_id="unassignSchedule", **requires("schedules"), status_code=200,
          responses=error_responses(400, 404, 413, 503))
    async def unassign(request: Request[Any, Any, Any], name: Name,
                       data: Annotated[PointBody, Body()]) -> ScheduleView:
        """Stop commanding a point named in an assignment (its level is relinquished)."""
        view: ScheduleView = await ask(UnassignSchedule(name=name, point=data.point, user=who(request)))
        return view

    @post("/{name:str}/override", operation_id="overrideSchedule", **requires("schedules"), status_code=200,
          responses=error_responses(400, 404, 413, 503))
    async def override(request: Request[Any, Any, Any], name: Name,
                       data: Annotated[OverrideBody, Body()]) -> ScheduleView:
        """A temporary value ("occupied until 22:00") that ends by itself."""
        view: ScheduleView = await ask(OverrideSchedule(name=name, value=data.value, until=data.until,
                                                        user=who(request)))
        return view

    @post("/{name:str}/override/cancel", operation_id="cancelScheduleOverride", **requires("schedules"),
          status_code=200, responses=error_responses(400, 404, 413, 503))
    async def cancel(request: Request[Any, Any, Any], name: Name) -> ScheduleView:
        """End a running override now."""
        view: ScheduleView = await ask(CancelOverride(name=name, user=who(request)))
        return view

    @post("/{name:str}/optimal-start", operation_id="setScheduleOptimalStart", **requires("schedules"),
          status_code=200, responses=error_responses(400, 404, 413, 503))
    async def optimal_start(request: Request[Any, Any, Any], name: Name,
                            data: Annotated[OptimalStartBody, Body()]) -> ScheduleView:
        """Start each zone's conditioning early so that it reaches its setpoint at the occupied time (``enabled``),
        or only at the occupied time."""
        view: ScheduleView = await ask(SetOptimalStart(name=name, enabled=data.enabled, user=who(request)))
        return view

    @post("/{name:str}/delete", operation_id="deleteSchedule", **requires("schedules"), status_code=200,
          responses=error_responses(400, 404, 413, 503))
    async def delete(request: Request[Any, Any, Any], name: Name) -> bool:
        """Remove a schedule; the priority levels it holds are relinquished."""
        return bool(await ask(DeleteSchedule(name=name, user=who(request))))

    @post("/devices/{device_id:str}/pull", operation_id="pullDeviceSchedules", **requires("schedules"),
          status_code=200, responses=error_responses(400, 404, 502, 503, 504))
    async def pull_device(device_id: DeviceId) -> list[DeviceSchedule]:
        """A controller's own Schedule and Calendar objects, read now and shown as bms schedules."""
        return await device_pull(_services(), device_id, await ask(ScheduleBridges()))

    @post("/devices/{device_id:str}/push", operation_id="pushDeviceSchedule", **requires("schedules"),
          status_code=200, responses=error_responses(400, 404, 413, 502, 503, 504))
    async def push_device(request: Request[Any, Any, Any], device_id: DeviceId,
                          data: Annotated[PushBody, Body()]) -> DeviceSchedule:
        """Write a schedule (the engine's of that name, or the one given) to a controller's Schedule object, or
        dates to its Calendar object; the object as the device now holds it."""

        async def lookup(name: str) -> Schedule:
            view: ScheduleView = await ask(GetSchedule(name=name))
            return view.schedule

        return await device_push(_services(), device_id, data, await ask(ScheduleBridges()), user=who(request),
                                 lookup=lookup)

    def _services() -> Services:
        if services is None:
            raise ServiceUnavailable("device schedules")
        return services

    return Router("/api/schedules", route_handlers=[list_schedules, schedule, create, program, add_exception,
                                                    remove_exception, assign, unassign, override, cancel, optimal_start,
                                                    delete, pull_device, push_device],
                  tags=["schedules"])
