"""``bms audit list`` and ``bms audit verify``: through the daemon when one runs (permission audit),
else straight from ``audit.db`` (read only)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.table import Table

from bms.audit import AuditLog, AuditRow, AuditVerdict
from bms.audit._log import AUDIT_DB
from bms.cli._app import BmsGroup, console, fail, print_json
from bms.cli._common import TIME, connect, daemon_running, data_dir, data_option, json_option
from bms.cli._render import format_time


@click.group("audit", cls=BmsGroup)
def audit() -> None:
    """The audit log: list and verify."""


@audit.command("list")
@click.option("--user", "who", metavar="USER", help="Only this user's actions.")
@click.option("--action", metavar="ACTION", help="Only this action (writePoint, acceptDevice, login...).")
@click.option("--target", metavar="NODE", help="Only actions on this node and beneath it.")
@click.option("--since", type=TIME, help="Only actions since then (1d, yesterday, 2026-12-01...).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="At most this many, the newest.")
@data_option
@json_option
def list_rows(who: str | None, action: str | None, target: str | None, since: float | None, limit: int,
              data: Path | None, as_json: bool) -> None:
    """Who did what, when, from where, on what: before, after and the outcome."""
    path = data_dir(data)
    if daemon_running(path):
        rows = connect(data).get("/api/audit", list[AuditRow], {"user": who, "action": action, "target": target,
                                                                "since": None if since is None else str(since),
                                                                "limit": limit})
    else:
        log = AuditLog(path / AUDIT_DB, readonly=True)
        try:
            rows = log.rows(user=who, action=action, target=target, since=since, limit=limit)
        finally:
            log.close()
    if as_json:
        print_json(rows)
        return
    table = Table("#", "when", "user", "from", "action", "target", "change", "outcome")
    for r in rows:
        e = r.entry
        outcome = e.outcome if not e.detail else f"{e.outcome}: {e.detail}"
        style = {"done": "", "refused": "yellow", "failed": "red"}.get(e.outcome, "")
        table.add_row(str(r.seq), format_time(e.at), e.user + (f" ({e.token})" if e.token else ""), e.origin,
                      e.action, e.target, f"{e.before or '-'} → {e.after or '-'}" if e.before or e.after else "",
                      outcome, style=style)
    console.print(table)


@audit.command("verify")
@data_option
@json_option
def verify(data: Path | None, as_json: bool) -> None:
    """Check the whole hash chain; names the first broken row (exit 1)."""
    path = data_dir(data)
    started = time.perf_counter()
    if daemon_running(path):
        verdict = connect(data).get("/api/audit/verify", AuditVerdict)
    else:
        log = AuditLog(path / AUDIT_DB, readonly=True)
        try:
            verdict = log.verify()
        finally:
            log.close()
    if as_json:
        print_json(verdict)
    if verdict.broken_at is not None:
        fail(f"audit log broken at row {verdict.broken_at}: {verdict.reason}")
    if not as_json:
        console.print(f"audit log intact: {verdict.rows} row(s) checked in {time.perf_counter() - started:.2f} s",
                      highlight=False)
