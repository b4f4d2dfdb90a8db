"""The notifier's slice of the API: the notification log and a test message to a recipient.

``notify_router`` serves a :class:`NotifyGateway`; the daemon's is
:class:`ServicesNotify`, which asks the ``notify`` service.
"""

from __future__ import annotations

import time
from typing import Annotated, Protocol

from litestar import Router, get, post
from litestar.params import Parameter

from bms.api import parse_time
from bms.api.routing import Services, error_responses, requires
from bms.errors import ConfigError
from bms.notify import ListNotifications, NotificationRecord, SendTestNotification

SERVICE = "notify"
TEST_TIMEOUT = 60.0  # one attempt: apprise's own connect and read timeouts end it well before

SinceQuery = Annotated[str, Parameter(description="epoch seconds, now, -1d, -1h30m or ISO 8601")]
UntilQuery = Annotated[str | None, Parameter(description="as since; default now")]
AlarmQuery = Annotated[str | None, Parameter(description="only the notifications of this alarm")]
LimitQuery = Annotated[int, Parameter(ge=1, le=100_000, description="at most this many, the latest")]
RecipientName = Annotated[str, Parameter(description="a recipient of [notify]", min_length=1, max_length=200)]


class NotifyGateway(Protocol):
    async def notifications(self, query: ListNotifications) -> list[NotificationRecord]: ...

    async def test(self, command: SendTestNotification) -> NotificationRecord: ...


class ServicesNotify:
    """The gateway over the running site: the ``notify`` service."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def notifications(self, query: ListNotifications) -> list[NotificationRecord]:
        return list(await self.services.ask(SERVICE, query))

    async def test(self, command: SendTestNotification) -> NotificationRecord:
        record: NotificationRecord = await self.services.ask(SERVICE, command, TEST_TIMEOUT)
        return record


def _time(name: str, text: str, now: float) -> float:
    try:
        return parse_time(text, now)
    except ConfigError as err:
        raise ConfigError(f"{name}: {err}") from None


def notify_router(gateway: NotifyGateway) -> Router:
    @get("/notifications", operation_id="listNotifications", **requires("read"), responses=error_responses(400, 503))
    async def notifications(since: SinceQuery = "-1d", until: UntilQuery = None, alarm: AlarmQuery = None,
                            limit: LimitQuery = 1000) -> list[NotificationRecord]:
        """The notifications sent (or being tried) since ``since``, oldest first: recipient, channel, alarms,
        status (sending, retrying, sent, failed), attempts and the last error."""
        now = time.time()
        start = _time("since", since, now)
        end = None if until is None else _time("until", until, now)
        if end is not None and end < start:
            raise ConfigError(f"since ({since}) is after until ({until})")
        return await gateway.notifications(ListNotifications(since=start, until=end, alarm_id=alarm, limit=limit))

    @post("/test/{recipient:str}", operation_id="testNotification", **requires("integrations"), status_code=200,
          responses=error_responses(400, 404, 503))
    async def test(recipient: RecipientName) -> NotificationRecord:
        """Send a test message to a recipient now (one attempt) and answer with its outcome:
        ``status`` sent or failed, with apprise's reason in ``error``."""
        return await gateway.test(SendTestNotification(recipient=recipient))

    return Router("/api/notify", route_handlers=[notifications, test], tags=["notify"])
