"""``webhooks``: bms events (alarms, device down/up, FDD faults, health) as signed JSON to HTTP endpoints.

The payload and its HMAC-SHA256 signature are :mod:`bms.export` (see
:mod:`bms.export._webhook` for how a receiver verifies one); this package
runs them: the actor (``_hooks``), one poster thread per endpoint
(``_poster``), ``/api/webhooks`` and ``bms webhooks log``.
"""

from __future__ import annotations

from typing import Any

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.export import WebhooksSection


def _api(services: Any) -> Any:
    from actors.components.webhooks._api import webhooks_router

    return webhooks_router(services)


def _commands() -> list[Any]:
    from actors.components.webhooks._cli import webhooks_group

    return [webhooks_group]


COMPONENT = Component(
    name="webhooks",
    children=lazy("actors.components.webhooks._hooks", "webhooks_component"),
    after=("nodes", "points", "alarms"),
    settings=WebhooksSection,
    api=_api,
    commands=_commands,
    description="webhooks: signed JSON events to HTTP endpoints, retries with backoff, delivery log (webhooks.db)",
)

__getattr__ = lazy_exports(__name__, {"Webhooks": "._hooks", "webhooks_component": "._hooks",
                                      "Poster": "._poster", "post_signed": "._poster"})
__all__ = ["COMPONENT", "Poster", "Webhooks", "post_signed", "webhooks_component"]
