"""The asks of the ``fdd`` service and what it answers.

The engine's events are the core's :class:`bms.messages.FddFaultRaised` / :class:`~bms.messages.FddFaultCleared`
(rule, equipment, explanation, time); fdd.db has the rest (:class:`FaultView`).
"""

from __future__ import annotations

import msgspec

from bms.fdd._binding import EquipBinding, RuleBlock
from bms.messages import Message


class FaultView(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A fault as fdd.db keeps it: raised (and maybe cleared, acknowledged) on one equipment by one rule."""

    id: int
    equip: str
    rule: str
    title: str
    severity: str
    raised_at: float
    explanation: str
    causes: tuple[str, ...] = ()
    state: str = ""  # the operating state it was raised in
    active: bool = True
    cleared_at: float | None = None
    acked_by: str = ""
    acked_at: float | None = None


class RuleView(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A rule of the library: what it checks, the roles it needs, the states it applies in."""

    id: str
    title: str
    kind: str = "g36"
    equation: str = ""
    roles: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    severity: str = "medium"
    enabled: bool = True


class ListFddRules(Message, frozen=True):
    pass


class ListFddBindings(Message, frozen=True, kw_only=True):
    under: str | None = None


class ListFaults(Message, frozen=True, kw_only=True):
    active: bool = False
    under: str | None = None
    limit: int = 1000


class AckFault(Message, frozen=True, kw_only=True):
    """Acknowledge a fault (by its id); answered with the fault as it now is."""

    fault_id: int
    user: str = ""


FDD_MESSAGES: tuple[type[msgspec.Struct], ...] = (ListFddRules, ListFddBindings, ListFaults, AckFault)

__all__ = ["FDD_MESSAGES", "AckFault", "EquipBinding", "FaultView", "ListFaults", "ListFddBindings", "ListFddRules",
           "RuleBlock", "RuleView"]
