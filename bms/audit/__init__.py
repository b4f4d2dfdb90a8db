"""The tamper-evident audit log (plain logic, no threads).

* :class:`AuditEntry`: one state-changing action (who, token, when, from
  where, action, target, before, after, outcome);
* :class:`AuditLog`: ``audit.db``, append-only, hash-chained
  (:mod:`bms.audit._chain`), with :meth:`~AuditLog.rows` and
  :meth:`~AuditLog.verify` (the first broken row);
* :func:`audited`: the row of a command that changes the data directory
  itself when no daemon runs on it (the OS user, from ``cli``);
* :func:`os_user`: who runs a command here without a daemon.

``AuditLog`` loads on first use (it brings SQLite and SQLAlchemy; the API's
client needs only the Structs).
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

from bms.audit._chain import GENESIS, first_break, link
from bms.audit._local import Change, audited
from bms.audit.messages import (
    AuditEntry,
    AuditRow,
    AuditSettings,
    AuditVerdict,
    ListAudit,
    RecordAudit,
    RecordAudits,
    VerifyAudit,
)

if TYPE_CHECKING:
    from bms.audit._log import AUDIT_DB, AuditLog


def os_user() -> str:
    """The user running this process (``uid N`` when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def __getattr__(name: str) -> Any:
    if name in ("AuditLog", "AUDIT_DB"):
        from bms.audit import _log

        return getattr(_log, name)
    raise AttributeError(f"module 'bms.audit' has no attribute {name!r}")


__all__ = [
    "AUDIT_DB",
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "AuditRow",
    "AuditSettings",
    "AuditVerdict",
    "Change",
    "ListAudit",
    "RecordAudit", "RecordAudits",
    "VerifyAudit",
    "audited",
    "first_break",
    "link",
    "os_user",
]
