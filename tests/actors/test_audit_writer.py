"""The audit writer: every record answered once committed, in order, in groups; a disk that cannot take
the rows refuses them (the callers hear it) and the component is Degraded until it can again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import ChildSpec, Context, make_context
from actors.components.audit import AuditWriter
from bms.audit import AuditEntry, AuditLog, ListAudit, RecordAudit, VerifyAudit
from bms.clock import ManualClock
from bms.errors import StoreError
from tests.conftest import fill


def record(n: int) -> RecordAudit:
    return RecordAudit(entry=AuditEntry(at=1_700_000_000.0 + n, user="olga", origin="api 10.0.0.5",
                                        action="writePoint", target="room1/sp", after=f'{{"value":{n}}}'))


def test_records_are_answered_once_committed_in_order(ctx: Context, tmp_path: Path) -> None:
    assert ctx.supervisor.start_child(ChildSpec("audit", AuditWriter)) is not None
    writer = ctx.registry.get("audit")
    futures = [writer.ask(record(n), block=False) for n in range(2000)]  # queued faster than one commit each
    assert [f.get(timeout=10) for f in futures] == list(range(1, 2001))
    log = AuditLog(tmp_path / "audit.db", readonly=True)
    assert log.count() == 2000 and log.verify().intact  # each answered row is on disk
    log.close()
    assert [r.seq for r in writer.ask(ListAudit(limit=2), timeout=10)] == [1999, 2000]
    assert writer.ask(VerifyAudit(), timeout=10).rows == 2000


@pytest.fixture
def full_ctx(small_fs: Path) -> Iterator[Context]:
    context = make_context(ManualClock(), small_fs)
    try:
        yield context
    finally:
        context.supervisor.stop_all(timeout=5)


def test_a_full_disk_refuses_records_and_degrades_until_it_has_room(full_ctx: Context, small_fs: Path) -> None:
    assert full_ctx.supervisor.start_child(ChildSpec("audit", AuditWriter)) is not None
    writer = full_ctx.registry.get("audit")
    assert writer.ask(record(1), timeout=10) == 1
    fill(small_fs / "backup.tar")
    with pytest.raises(StoreError, match="cannot append to the audit log"):
        for n in range(2, 2000):  # until the WAL needs a page the disk has not got
            writer.ask(record(n), timeout=10)
    found = full_ctx.health.get("audit")
    assert found is not None and found.state == "Degraded" and "audit.db cannot be written" in found.reason
    (small_fs / "backup.tar").unlink()
    seq = writer.ask(record(9999), timeout=10)
    found = full_ctx.health.get("audit")
    assert found is not None and found.state == "Healthy"
    log = AuditLog(small_fs / "audit.db", readonly=True)
    assert log.verify().intact and log.rows(limit=1)[0].seq == seq
    log.close()


def test_the_apis_auditor_sends_a_turns_records_together(ctx: Context, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from actors.components.audit import ActorAuditor
    from bms.errors import ServiceUnavailable

    auditor = ActorAuditor(ctx, timeout=5)

    async def side_by_side(n: int) -> None:
        await asyncio.gather(*(auditor.record(record(i).entry) for i in range(n)))

    with pytest.raises(ServiceUnavailable, match="the audit service is not running"):
        asyncio.run(side_by_side(1))
    assert ctx.supervisor.start_child(ChildSpec("audit", AuditWriter)) is not None
    calls: list[int] = []
    append = AuditLog.append

    def counted(self: AuditLog, entries: list[AuditEntry]) -> list[int]:
        calls.append(len(entries))
        return append(self, entries)

    monkeypatch.setattr(AuditLog, "append", counted)
    asyncio.run(side_by_side(50))
    assert calls == [50]  # one message, one commit, fifty answers
    log = AuditLog(tmp_path / "audit.db", readonly=True)
    assert log.count() == 50 and log.verify().intact
    log.close()
