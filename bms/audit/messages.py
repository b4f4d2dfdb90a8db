"""The audit log's rows and the asks of the ``audit`` service."""

from __future__ import annotations

import msgspec

from bms.messages import Message

Outcome = str
"""``done``, ``refused`` (a guard, a permission, a conflict: the caller's request was turned down) or
``failed`` (the device or a service failed it)."""


class AuditEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One state-changing action: who (user, token name), when, from where, what, on what, before and
    after (JSON text, or empty), and its outcome with a one-line detail."""

    at: float
    user: str
    origin: str  # "cli", "shell", "api 10.0.0.5", "logic:program", "schedule:name", "mqtt"
    action: str
    target: str = ""
    token: str = ""
    before: str = ""
    after: str = ""
    outcome: Outcome = "done"
    detail: str = ""


class AuditRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An entry as stored: its sequence number, the previous row's hash and its own."""

    seq: int
    entry: AuditEntry
    prev: str
    hash: str


class AuditVerdict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The whole chain checked: ``rows`` read, and the first broken row (None: intact) with why."""

    rows: int
    broken_at: int | None = None
    reason: str = ""
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        return self.broken_at is None


class RecordAudit(Message, frozen=True):
    """Append ``entry``; answered (its sequence number) once the row is committed."""

    entry: AuditEntry


class RecordAudits(Message, frozen=True):
    """Append ``entries`` (several callers' at once); answered (their sequence numbers) once committed."""

    entries: tuple[AuditEntry, ...]


class ListAudit(Message, frozen=True):
    user: str | None = None
    action: str | None = None
    target: str | None = None  # a node: rows on it and beneath it (``target`` or ``target/...``)
    since: float | None = None
    limit: int = 1000


class VerifyAudit(Message, frozen=True):
    pass


MESSAGES: tuple[type[Message], ...] = (RecordAudit, RecordAudits, ListAudit, VerifyAudit)


class AuditSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[audit]`` in the settings file. ``enabled = false`` runs without an audit log (measurements only:
    state changes are then recorded nowhere)."""

    enabled: bool = True
