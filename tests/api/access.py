"""The API app as the daemon builds it, in process: the in-memory site, the devices, auth and audit slices,
a real users.db (the ``auth`` service's answers) and a real audit.db (the ``audit`` service's)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from litestar import Litestar

from actors.components.audit import audit_router
from actors.components.auth import auth_router
from actors.components.devices import devices_router
from bms.api import ServiceUnavailable, create_app
from bms.audit import AuditEntry, AuditLog, ListAudit, RecordAudit, VerifyAudit
from bms.auth import Directory, Identity, LoginLimiter, Passwords, answer
from bms.auth.messages import Authenticate
from bms.errors import StoreError
from tests.api.fake import FakeSite

FAST = Passwords(time_cost=1, memory_cost=8, parallelism=1)


class LocalServices:
    """``Services`` answered in process, as the auth and audit actors answer them."""

    def __init__(self, data: Path, clock: Any = time.time) -> None:
        self.users = Directory(data / "users.db", clock, passwords=FAST, limiter=LoginLimiter(clock, max_failures=3))
        self.log = AuditLog(data / "audit.db")
        self.audit_broken = False

    async def ask(self, service: str, message: Any, timeout: float | None = None) -> Any:
        if service == "auth":
            return answer(self.users, message)
        if service == "audit":
            if isinstance(message, RecordAudit):
                if self.audit_broken:
                    raise StoreError("audit.db: disk I/O error")
                return self.log.append([message.entry])[0]
            if isinstance(message, ListAudit):
                return self.log.rows(user=message.user, action=message.action, target=message.target,
                                     since=message.since, limit=message.limit)
            if isinstance(message, VerifyAudit):
                return self.log.verify()
        raise ServiceUnavailable(service)

    async def authenticate(self, token: str) -> Identity:
        who: Identity = await self.ask("auth", Authenticate(token=token))
        return who

    async def record(self, entry: AuditEntry) -> None:
        await self.ask("audit", RecordAudit(entry=entry))

    def token(self, user: str, role: str) -> str:
        """A token of a new user with ``role``."""
        self.users.add_user(user, role, "correct horse")
        return self.users.create_token(user, "t").token

    def close(self) -> None:
        self.users.close()
        self.log.close()


def daemon_app(site: FakeSite, services: LocalServices) -> Litestar:
    """The API as the daemon serves it: the core routes and every installed component's slice (the devices
    slice over the fake site), so a route any component adds is walked by the access tests."""
    from bms.components import installed

    slices = [comp.api(services) for comp in installed().components
              if comp.api is not None and comp.name not in ("devices", "auth", "audit")]
    return create_app(site, services, 4096, routers=[devices_router(site), auth_router(services),
                                                     audit_router(services), *slices], auditor=services)
