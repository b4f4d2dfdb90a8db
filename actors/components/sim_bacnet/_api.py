"""The simulators' slice of the API: ``POST /api/sim/{device}/fault`` gives a simulated AHU a fault (``devices``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, post
from litestar.params import Body, Parameter

from bms.api.routing import Services, error_responses, identity_of, requires
from bms.sim.messages import InjectSimFault, SimFaults

SERVICE = "sim-bacnet"


class FaultBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """damper-stuck, cooling-valve-leak, mat-drift, or clear (ends them all)."""

    fault: str


def sim_router(services: Services) -> Router:
    @post("/{device:str}/fault", operation_id="injectSimFault", **requires("devices"), status_code=200,
          responses=error_responses(400, 404, 503))
    async def inject(request: Request[Any, Any, Any],
                     device: Annotated[str, Parameter(description="a simulated air handler's device id, e.g. ahu1")],
                     data: Annotated[FaultBody, Body()]) -> SimFaults:
        """Give a simulated air handler a fault (the demo's FDD rules should raise it), or clear its faults."""
        found: SimFaults = await services.ask(SERVICE, InjectSimFault(device=device, fault=data.fault,
                                                                      user=identity_of(request).user))
        return found

    return Router("/api/sim", route_handlers=[inject], tags=["sim"])
