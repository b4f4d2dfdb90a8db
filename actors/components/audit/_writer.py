"""``AuditWriter``: the ``audit`` service, the only writer of ``audit.db``.

A :class:`~bms.audit.RecordAudit` is answered once its row is committed
(the caller, the API, acknowledges its own request only then). Rows are
committed in groups: the writer takes every record waiting in its inbox
and commits them in one transaction when the inbox is empty (or
:data:`GROUP` rows wait), then answers each. A commit that fails answers
each waiting caller with the error (their requests are answered 503) and
the component is Degraded until a commit succeeds again.
Reads (``ListAudit``, ``VerifyAudit``: a million rows take seconds) run on a
read connection of their own on a worker thread, never holding the
writer's inbox.
"""

from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING, Any

from actors._base import BmsActor, handles
from actors._later import Later
from actors._supervisor import ChildSpec
from bms.audit import (
    AUDIT_DB,
    AuditEntry,
    AuditLog,
    AuditRow,
    AuditVerdict,
    ListAudit,
    RecordAudit,
    RecordAudits,
    VerifyAudit,
)
from bms.errors import BmsError
from bms.supervision import Health

if TYPE_CHECKING:
    from actors.platform import Platform

NAME = "audit"
GROUP = 512


def audit_component(platform: Platform) -> list[ChildSpec]:
    section = platform.section(NAME)
    return [ChildSpec(NAME, AuditWriter)] if section.enabled else []


def _read_rows(log_path: Any, query: ListAudit) -> list[AuditRow]:
    log = AuditLog(log_path, readonly=True)
    try:
        return log.rows(user=query.user, action=query.action, target=query.target, since=query.since,
                        limit=query.limit)
    finally:
        log.close()


def _verify(log_path: Any) -> AuditVerdict:
    log = AuditLog(log_path, readonly=True)
    try:
        return log.verify()
    finally:
        log.close()


class AuditWriter(BmsActor):
    log_file: AuditLog | None = None

    def setup(self) -> None:
        self.path = self.ctx.data_dir / AUDIT_DB
        self.log_file = AuditLog(self.path)
        self.pending: list[tuple[tuple[AuditEntry, ...], concurrent.futures.Future[list[int]]]] = []
        self.waiting_rows = 0
        self.failing = False
        self.readers = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="audit-read")

    def teardown(self) -> None:
        self._commit()
        self.readers.shutdown(wait=True)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def on_receive(self, message: Any) -> Any:
        answer = super().on_receive(message)
        if self.pending and (self.waiting_rows >= GROUP or self.actor_inbox.empty()):
            self._commit()
        return answer

    def _commit(self) -> None:
        waiting, self.pending, self.waiting_rows = self.pending, [], 0
        if not waiting:
            return
        assert self.log_file is not None
        try:
            seqs = self.log_file.append([entry for entries, _ in waiting for entry in entries])
        except BmsError as err:
            self.log.error("audit rows not committed: their requests are refused", rows=len(waiting),
                           error=str(err))
            if not self.failing:
                self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                           f"audit.db cannot be written; state changes are refused: {err}")
            self.failing = True
            for _, future in waiting:
                future.set_exception(err)
            return
        if self.failing:
            self.failing = False
            self.log.info("audit.db writable again")
            self.ctx.supervisor.report(self.name, Health.HEALTHY, "audit.db writable again")
        at = 0
        for entries, future in waiting:
            future.set_result(seqs[at:at + len(entries)])
            at += len(entries)

    def _wait(self, entries: tuple[AuditEntry, ...]) -> concurrent.futures.Future[list[int]]:
        future: concurrent.futures.Future[list[int]] = concurrent.futures.Future()
        self.pending.append((entries, future))
        self.waiting_rows += len(entries)
        return future

    @handles(RecordAudit)
    def record(self, message: RecordAudit) -> Later:
        """Answered with the row's sequence number once committed."""
        single: concurrent.futures.Future[int] = concurrent.futures.Future()

        def first(done: concurrent.futures.Future[list[int]]) -> None:
            err = done.exception()
            if err is not None:
                single.set_exception(err)
            else:
                single.set_result(done.result()[0])

        self._wait((message.entry,)).add_done_callback(first)
        return Later(single, "the audit record")

    @handles(RecordAudits)
    def record_many(self, message: RecordAudits) -> Later:
        """Answered with the rows' sequence numbers once committed."""
        return Later(self._wait(message.entries), "the audit records")

    @handles(ListAudit)
    def rows(self, query: ListAudit) -> Later:
        return Later(self.readers.submit(_read_rows, self.path, query), "the audit rows")

    @handles(VerifyAudit)
    def verify(self, _query: VerifyAudit) -> Later:
        return Later(self.readers.submit(_verify, self.path), "the audit verification")
