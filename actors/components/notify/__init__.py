"""``notify``: alarm notifications -- routing, escalation, flood digests, delivery through apprise, notifications.db."""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.notify import NOTIFY_MESSAGES, NotifySection


def _api(services: Any) -> Any:
    from actors.components.notify._api import ServicesNotify, notify_router

    return notify_router(ServicesNotify(services))


def _commands() -> list[Any]:
    from actors.components.notify._cli import notifications, notify

    return [notifications, notify]


COMPONENT = Component(
    name="notify",
    children=lazy("actors.components.notify._notifier", "notify_component"),
    after=("nodes", "points", "alarms"),  # routing reads the model; the alarm engine publishes what it notifies
    settings=NotifySection,
    messages=NOTIFY_MESSAGES,
    api=_api,
    commands=_commands,
    description="alarm notifications: recipients, routing, escalation, flood digests, retries (notifications.db)",
)

__getattr__ = lazy_exports(__name__, {"Notifier": "._notifier", "notify_component": "._notifier",
                                      "NotifyGateway": "._api", "notify_router": "._api", "Courier": "._courier"})
__all__ = ["COMPONENT", "Courier", "Notifier", "NotifyGateway", "notify_component", "notify_router"]
