"""The webhooks' slice of the API: the delivery log."""

from __future__ import annotations

import time
from typing import Annotated

from litestar import Router, get
from litestar.params import Parameter

from bms.api import parse_time
from bms.api.routing import Services, error_responses, requires
from bms.errors import ConfigError
from bms.export import ListWebhookDeliveries, WebhookDelivery

SinceQuery = Annotated[str, Parameter(description="epoch seconds, now, -1d, -1h30m or ISO 8601")]
EndpointQuery = Annotated[str | None, Parameter(description="only the deliveries to this endpoint")]
LimitQuery = Annotated[int, Parameter(ge=1, le=100_000, description="at most this many, the latest")]


def webhooks_router(services: Services) -> Router:
    @get("/deliveries", operation_id="listWebhookDeliveries", **requires("read"), responses=error_responses(400, 503))
    async def deliveries(since: SinceQuery = "-1d", endpoint: EndpointQuery = None,
                         limit: LimitQuery = 1000) -> list[WebhookDelivery]:
        """Webhook deliveries since ``since``, oldest first: endpoint, event kind, status (pending, sent,
        failed), attempts, the endpoint's HTTP status and the last error."""
        try:
            start = parse_time(since, time.time())
        except ConfigError as err:
            raise ConfigError(f"since: {err}") from None
        query = ListWebhookDeliveries(since=start, endpoint=endpoint, limit=limit)
        return list(await services.ask("webhooks", query))

    return Router("/api/webhooks", route_handlers=[deliveries], tags=["webhooks"])
