"""``audit``: the tamper-evident audit log (``audit.db``), its slice of the API and ``bms audit``.

One supervised actor, ``audit`` (:class:`AuditWriter`), the only writer of
the file; the API records every state-changing request through it before
answering. ``[audit] enabled = false`` starts no writer (measurements only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from actors.components import lazy, lazy_exports
from bms.audit.messages import MESSAGES, AuditSettings
from bms.components import Component

if TYPE_CHECKING:
    import click


def _api(services: Any) -> Any:
    from actors.components.audit._api import audit_router

    return audit_router(services)


def _commands() -> Sequence[click.Command]:
    from actors.components.audit._cli import audit

    return [audit]


COMPONENT = Component(
    name="audit",
    children=lazy("actors.components.audit._writer", "audit_component"),
    settings=AuditSettings,
    messages=MESSAGES,
    api=_api,
    commands=_commands,
    description="the append-only, hash-chained audit log (audit.db)",
)

__getattr__ = lazy_exports(__name__, {"ActorAuditor": "._auditor", "AuditWriter": "._writer",
                                      "audit_component": "._writer", "audit_router": "._api"})
__all__ = ["COMPONENT", "ActorAuditor", "AuditWriter", "audit_component", "audit_router"]
