"""The audit component's slice of the API: the rows (filtered) and the verification of the chain."""

from __future__ import annotations

import time
from typing import Annotated

from litestar import Router, get
from litestar.params import Parameter

from bms.api import parse_time
from bms.api.routing import Services, error_responses, requires
from bms.audit import AuditRow, AuditVerdict, ListAudit, VerifyAudit

SERVICE = "audit"
VERIFY_TIMEOUT = 120.0  # seconds: a million rows take a few


def audit_router(services: Services) -> Router:
    @get("/", operation_id="listAudit", **requires("audit"), responses=error_responses(503))
    async def rows(
        user: Annotated[str | None, Parameter(description="only this user's actions")] = None,
        action: Annotated[str | None, Parameter(description="only this action (writePoint, acceptDevice...)")] = None,
        target: Annotated[str | None, Parameter(description="only actions on this node and beneath it")] = None,
        since: Annotated[str | None, Parameter(description="only actions since then (1d, 2026-12-01, ...)")] = None,
        limit: Annotated[int, Parameter(ge=1, le=100_000, description="at most this many, the newest")] = 1000,
    ) -> list[AuditRow]:
        """The audit log's rows, oldest first, with their chain hashes."""
        start = parse_time(since, time.time()) if since else None
        return list(await services.ask(SERVICE, ListAudit(user=user, action=action, target=target, since=start,
                                                          limit=limit)))

    @get("/verify", operation_id="verifyAudit", **requires("audit"), responses=error_responses(503))
    async def verify() -> AuditVerdict:
        """Check the whole hash chain; the first broken row, if any, with why."""
        verdict: AuditVerdict = await services.ask(SERVICE, VerifyAudit(), timeout=VERIFY_TIMEOUT)
        return verdict

    return Router("/api/audit", route_handlers=[rows, verify], tags=["audit"])
