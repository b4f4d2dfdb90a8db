"""Auditing a command that changes the data directory itself (no daemon runs on it).

``with audited(data_dir, "acceptDevice", "dev-12") as row: ...`` records one
row when the block ends: done, or refused/failed with the error's line (the
error goes on). The row is committed before the block's caller goes on, so
the command prints its result only once the action is in the log. The user
is the operating-system user, from ``cli``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from bms.audit.messages import AuditEntry
from bms.errors import BmsError, ProtocolError, StoreError


class Change:
    """What the block tells the row: the values before and after (any JSON-able value)."""

    def __init__(self) -> None:
        self.before: Any = None
        self.after: Any = None


def _text(value: Any) -> str:
    return "" if value is None else msgspec.json.encode(value).decode()


def outcome_of(err: BaseException | None) -> str:
    if err is None:
        return "done"
    if isinstance(err, (ProtocolError, StoreError)) or not isinstance(err, BmsError):
        return "failed"
    return "refused"


@contextmanager
def audited(data_dir: Path, action: str, target: str = "", *, user: str | None = None,
            origin: str = "cli") -> Iterator[Change]:
    from bms.audit import os_user
    from bms.audit._log import AUDIT_DB, AuditLog

    change = Change()
    failure: BaseException | None = None
    try:
        yield change
    except BaseException as err:
        failure = err
        raise
    finally:
        if not isinstance(failure, (KeyboardInterrupt, GeneratorExit)):
            entry = AuditEntry(at=time.time(), user=user or os_user(), origin=origin, action=action, target=target,
                               before=_text(change.before), after=_text(change.after),
                               outcome=outcome_of(failure), detail=str(failure) if failure is not None else "")
            log = AuditLog(data_dir / AUDIT_DB)
            try:
                log.append([entry])
            finally:
                log.close()
