"""The FDD engine's slice of the API: ``/api/fdd`` (reading needs ``read``; acknowledging ``alarms``)."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from litestar import Request, Router, get, post
from litestar.params import Parameter

from bms.api.routing import Services, error_responses, identity_of, note, requires
from bms.fdd.messages import AckFault, EquipBinding, FaultView, ListFaults, ListFddBindings, ListFddRules, RuleView

SERVICE = "fdd"
FaultId = Annotated[int, Parameter(description="the fault's id (bms fdd faults)", ge=1)]
UnderNode = Annotated[str | None, Parameter(description="only equipment under this node (a space, an AHU)")]


class FddGateway(Protocol):
    async def ask(self, message: Any) -> Any: ...


class ServicesFdd:
    """The gateway over the running site: the ``fdd`` service."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def ask(self, message: Any) -> Any:
        return await self.services.ask(SERVICE, message)


def fdd_router(gateway: FddGateway) -> Router:
    @get("/rules", operation_id="fddRules", **requires("read"), responses=error_responses(503))
    async def rules() -> list[RuleView]:
        """The rule library: the G36 fault conditions (roles, states, equation, likely causes) and generic rules."""
        return list(await gateway.ask(ListFddRules()))

    @get("/bindings", operation_id="fddBindings", **requires("read"), responses=error_responses(404, 503))
    async def bindings(under: UnderNode = None) -> list[EquipBinding]:
        """Each air handler with its bound roles, its missing roles and the rules that cannot run, and why."""
        return list(await gateway.ask(ListFddBindings(under=under)))

    @get("/faults", operation_id="fddFaults", **requires("read"), responses=error_responses(404, 503))
    async def faults(active: Annotated[bool, Parameter(description="only faults not yet cleared")] = False,
                     under: UnderNode = None,
                     limit: Annotated[int, Parameter(description="at most this many (newest first)",
                                                     ge=1, le=100_000)] = 1000) -> list[FaultView]:
        """Faults raised, newest first: rule, equipment, explanation, likely causes, cleared, acknowledged."""
        return list(await gateway.ask(ListFaults(active=active, under=under, limit=limit)))

    @post("/faults/{fault_id:int}/ack", operation_id="ackFddFault", **requires("alarms"), status_code=200,
          responses=error_responses(404, 503))
    async def ack(request: Request[Any, Any, Any], fault_id: FaultId) -> FaultView:
        """Acknowledge a fault (recorded with the user, and in the audit log)."""
        fault: FaultView = await gateway.ask(AckFault(fault_id=fault_id, user=identity_of(request).user))
        note(request.scope, target=f"fdd fault {fault_id} ({fault.equip} {fault.rule})",
             after={"acked_by": fault.acked_by, "active": fault.active})
        return fault

    return Router("/api/fdd", route_handlers=[rules, bindings, faults, ack], tags=["fdd"])
