"""``bms webhooks log``: the webhook deliveries (through the daemon's API, or webhooks.db without one)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table
from rich.text import Text

from bms.cli import connect, console, data_option, fail, json_option, print_json
from bms.cli._common import TIME, data_dir
from bms.cli._common import daemon_running as _daemon_running
from bms.errors import BmsError
from bms.export import WebhookDelivery

F = TypeVar("F", bound=Callable[..., Any])
STYLE = {"sent": "green", "failed": "bold red", "pending": "yellow"}


def one_line(fn: F) -> F:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BmsError as err:
            fail(str(err))

    return run  # type: ignore[return-value]


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhooks: signed JSON events to HTTP endpoints, and their delivery log."""


@webhooks_group.command("log")
@click.option("--since", "since", type=TIME, default="1d", show_default=True, metavar="TIME",
              help="Start: now, 15m, 1d (ago), a date, ISO 8601 or epoch seconds.")
@click.option("--endpoint", metavar="NAME", help="Only the deliveries to endpoint NAME.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True, help="At most N, the latest.")
@data_option
@json_option
@one_line
def log(since: float, endpoint: str | None, limit: int, data: Path | None, as_json: bool) -> None:
    """Deliveries since --since, oldest first: endpoint, event, status, attempts, HTTP status, last error."""
    path = data_dir(data)
    if _daemon_running(path):
        records = connect(data).get("/api/webhooks/deliveries", list[WebhookDelivery],
                                    {"since": repr(since), "endpoint": endpoint, "limit": limit})
    elif (path / "webhooks.db").exists():
        from bms.export import DeliveryLog

        store = DeliveryLog(path / "webhooks.db")
        try:
            records = store.records(since, endpoint, limit)
        finally:
            store.close()
    else:
        records = []
    if as_json:
        print_json(records)
        return
    t = Table(caption=f"{len(records)} deliveries", caption_justify="left")
    for name in ("created", "endpoint", "event", "status", "attempts", "http", "error"):
        t.add_column(name)
    for r in records:
        t.add_row(datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M:%S"), Text(r.endpoint), r.kind,
                  Text(r.status, style=STYLE.get(r.status, "")), str(r.attempts), str(r.http_status or ""),
                  Text(r.error))
    console.print(t)
