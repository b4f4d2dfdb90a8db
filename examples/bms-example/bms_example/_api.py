"""``GET /api/example/busiest``: this component's slice of the API, over a gateway of its own."""

from __future__ import annotations

from typing import Annotated, Protocol

from litestar import Router, get
from litestar.params import Parameter

from bms.api.routing import Services, requires
from bms_example import Busiest, BusiestPoints


class ExampleGateway(Protocol):
    async def busiest(self, top: int | None) -> Busiest: ...


class ServicesGateway:
    """The gateway over the running site: asks the ``example`` actor."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def busiest(self, top: int | None) -> Busiest:
        reply: Busiest = await self.services.ask("example", BusiestPoints(top=top))
        return reply


def example_router(gateway: ExampleGateway) -> Router:
    @get("/busiest", **requires("read"), summary="The points whose value changed most")
    async def busiest(top: Annotated[int | None, Parameter(ge=1, le=1000)] = None) -> Busiest:
        """The ``top`` points (default ``[example] top``) whose value changed most since the daemon started."""
        return await gateway.busiest(top)

    return Router("/api/example", route_handlers=[busiest], tags=["example"])
