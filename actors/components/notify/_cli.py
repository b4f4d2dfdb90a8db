"""``bms notifications list`` and ``bms notify test``: the notifier's commands (the shell offers them too).

With a daemon running on the data directory both go through its API; without
one, ``list`` reads notifications.db itself and ``test`` sends from this
process with the settings file's ``[notify]``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from rich.text import Text

from bms.cli import connect, console, data_option, fail, json_option, print_json
from bms.cli._common import TIME, data_dir
from bms.cli._common import daemon_running as _daemon_running
from bms.errors import BmsError, ConfigError, NotFound
from bms.notify import NotificationRecord, NotifySection

F = TypeVar("F", bound=Callable[..., Any])


def one_line(fn: F) -> F:
    """A refusal is one line, as JSON under --json, said from the command's own context (where --json is seen)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BmsError as err:
            fail(str(err))

    return run  # type: ignore[return-value]


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
@one_line
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
@click.option("--config", "-c", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Without a daemon: the settings file whose [notify] to use (default conf/bms.toml).")
@data_option
@json_option
@one_line
def test(recipient: str, config: Path | None, data: Path | None, as_json: bool) -> None:
    """Send a test message to RECIPIENT (a name of [notify] recipients) and say whether it went through.

    The daemon running on the data directory sends it (and logs it); without one it is sent from here."""
    path = data_dir(data)
    if _daemon_running(path):
        record = connect(data).post(f"/api/notify/test/{recipient}", NotificationRecord, timeout=70.0)
    else:
        record = _send_here(recipient, config)
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




def _offline(path: Path, since: float, alarm_id: str | None, limit: int) -> list[NotificationRecord]:
    from bms.notify import NotificationLog

    if not (path / "notifications.db").exists():
        return []
    log = NotificationLog(path / "notifications.db")
    try:
        return log.records(since, None, alarm_id, limit)
    finally:
        log.close()


def _section(config: Path | None) -> NotifySection:
    from bms.config import load_settings

    settings, _where = load_settings(config, isolate=True)
    problems = settings.broken.get("notify")
    if problems:
        raise ConfigError(problems[0])
    found = settings.sections.get("notify")
    return found if isinstance(found, NotifySection) else NotifySection()


def _send_here(name: str, config: Path | None) -> NotificationRecord:
    """The test sent from this process (no daemon): one attempt, not logged."""
    from actors.components.notify._courier import channel, send
    from bms.notify import test_body, test_title

    section = _section(config)
    recipient = section.recipient(name)
    if recipient is None:
        names = ", ".join(r.name for r in section.recipients) or "none"
        raise NotFound(f"no recipient named {name!r} in [notify] (recipients: {names})")
    try:
        service = channel(recipient.url, recipient.secret)
    except ValueError as err:
        raise ConfigError(f"recipient {name!r}: {err}") from None
    now = time.time()
    tz = ZoneInfo(section.timezone) if section.timezone else datetime.now().astimezone().tzinfo
    assert tz is not None
    body = test_body(name, now, tz)
    error = send(service, test_title(), body, "")
    return NotificationRecord(id="", created=now, updated=time.time(), recipient=name, channel=recipient.scheme,
                              kind="test", status="sent" if not error else "failed", attempts=1, title=test_title(),
                              body=body, error=error)
