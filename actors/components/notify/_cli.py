"""``bms notifications list`` and ``bms notify test``: the notifier's commands (the shell offers them too).

With a daemon running on the data directory both go through its API; without
one, ``list`` reads notifications.db itself and ``test`` sends from this
process with the settings file's ``[notify]``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from bms.cli import connect, console, data_option, json_option, print_json
from bms.cli._common import TIME, data_dir
from bms.errors import ConfigError, NotFound
from bms.notify import NotificationRecord, NotifySection

STATUS_STYLE = {"sent": "green", "failed": "bold red", "retrying": "yellow", "sending": "cyan"}


@click.group("notifications")
def notifications() -> None:
    """The notification log: what was sent to whom, and how it went."""


@notifications.command("list")
@click.option("--since", "since", type=TIME, default="1d", show_default=True, metavar="TIME",
              help="Start: now, 15m, 1d (ago), 13:00, yesterday, a date, ISO 8601 or epoch seconds.")
@click.option("--alarm", "alarm_id", metavar="ID", help="Only the notifications of alarm ID.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True, help="At most N, the latest.")
@data_option
@json_option
def list_notifications(since: float, alarm_id: str | None, limit: int, data: Path | None, as_json: bool) -> None:
    """Notifications since --since, oldest first: recipient, channel, alarms, status, attempts, last error."""
    path = data_dir(data)
    if _daemon_running(path):
        records = connect(data).get("/api/notify/notifications", list[NotificationRecord],
                                    {"since": repr(since), "alarm": alarm_id, "limit": limit})
    else:
        records = _offline(path, since, alarm_id, limit)
    if as_json:
        print_json(records)
        return
    console.print(table(records))


@click.group("notify")
def notify() -> None:
    """Alarm notifications: try a recipient."""


@notify.command("test")
@click.argument("recipient")
@data_option
@json_option
def test(recipient: str, data: Path | None, as_json: bool) -> None:
    """Send a test message to RECIPIENT (a name of [notify] recipients) and say whether it went through."""
    path = data_dir(data)
    if _daemon_running(path):
        record = connect(data).post(f"/api/notify/test/{recipient}", NotificationRecord, timeout=70.0)
    else:
        record = _send_here(recipient)
    if as_json:
        print_json(record)
    elif record.status == "sent":
        console.print(f"test notification sent to {record.recipient} ({record.channel})", highlight=False)
    if record.status != "sent":
        raise ConfigError(f"test notification to {record.recipient!r} ({record.channel}) failed: {record.error}")


def table(records: list[NotificationRecord]) -> Table:
    t = Table(caption=f"{len(records)} notification(s)", caption_justify="left")
    for name in ("created", "recipient", "channel", "kind", "alarms", "status", "attempts", "error"):
        t.add_column(name, justify="right" if name == "attempts" else "left")
    for r in records:
        kind = f"{r.kind} L{r.level}" if r.kind == "escalation" else r.kind
        alarms = ", ".join(r.alarm_ids[:3]) + (f" +{len(r.alarm_ids) - 3}" if len(r.alarm_ids) > 3 else "")
        t.add_row(datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M:%S"), Text(r.recipient),
                  r.channel, kind, Text(alarms), Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                  str(r.attempts), Text(r.error))
    return t


# ------------------------------------------------------------------ no daemon


def _daemon_running(path: Path) -> bool:
    import os

    from bms.daemon import read_daemon_info

    info = read_daemon_info(path)
    if info is None:
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _offline(path: Path, since: float, alarm_id: str | None, limit: int) -> list[NotificationRecord]:
    from bms.notify import NotificationLog

    if not (path / "notifications.db").exists():
        return []
    log = NotificationLog(path / "notifications.db")
    try:
        return log.records(since, None, alarm_id, limit)
    finally:
        log.close()


def _section() -> NotifySection:
    from bms.config import load_settings

    settings, _where = load_settings(isolate=True)
    problems = settings.broken.get("notify")
    if problems:
        raise ConfigError(problems[0])
    found = settings.sections.get("notify")
    return found if isinstance(found, NotifySection) else NotifySection()


def _send_here(name: str) -> NotificationRecord:
    """The test sent from this process (no daemon): one attempt, not logged."""
    from actors.components.notify._courier import channel, send
    from bms.notify import test_body, test_title

    section = _section()
    recipient = section.recipient(name)
    if recipient is None:
        names = ", ".join(r.name for r in section.recipients) or "none"
        raise NotFound(f"no recipient named {name!r} in [notify] (recipients: {names})")
    try:
        service = channel(recipient.url)
    except ValueError as err:
        raise ConfigError(f"recipient {name!r}: {err}") from None
    now = time.time()
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(section.timezone or "UTC") if section.timezone else None
    body = test_body(name, now, tz or datetime.now().astimezone().tzinfo)  # type: ignore[arg-type]
    error = send(service, test_title(), body, "")
    return NotificationRecord(id="", created=now, updated=time.time(), recipient=name, channel=recipient.scheme,
                              kind="test", status="sent" if not error else "failed", attempts=1, title=test_title(),
                              body=body, error=error)
