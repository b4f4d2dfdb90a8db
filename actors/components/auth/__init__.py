"""``auth``: users, roles and tokens (``users.db``), the local admin, their API slice and CLI commands.

One supervised actor, ``auth`` (:class:`Authority`): it authenticates every
API request and answers the user, token and role asks of
:mod:`bms.auth.messages`. ``bms user``, ``bms token`` and ``bms role`` go
through the API when a daemon runs on the data directory, else work on
``users.db`` directly (audited as the OS user, from ``cli``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from actors.components import lazy, lazy_exports
from bms.auth.messages import MESSAGES
from bms.components import Component

if TYPE_CHECKING:
    import click


def _api(services: Any) -> Any:
    from actors.components.auth._api import auth_router

    return auth_router(services)


def _commands() -> Sequence[click.Command]:
    from actors.components.auth._cli import role, token, user

    return [user, token, role]


COMPONENT = Component(
    name="auth",
    children=lazy("actors.components.auth._actor", "auth_component"),
    messages=MESSAGES,
    api=_api,
    commands=_commands,
    description="users, roles and API tokens (users.db); the local admin",
)

__getattr__ = lazy_exports(__name__, {"Authority": "._actor", "auth_component": "._actor",
                                      "auth_router": "._api"})
__all__ = ["COMPONENT", "Authority", "auth_component", "auth_router"]
