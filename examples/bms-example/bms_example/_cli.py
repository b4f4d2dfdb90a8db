"""``bms example busiest``: this component's command (the shell offers it too)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from bms.cli import connect, console, data_option, json_option, print_json
from bms_example import Busiest


@click.group("example")
def example() -> None:
    """The example component: the points that change most."""


@example.command("busiest")
@click.option("--top", type=click.IntRange(1, 1000), default=None, help="How many points (default [example] top).")
@data_option
@json_option
def busiest(top: int | None, data: Path | None, as_json: bool) -> None:
    """The points whose value changed most since the daemon started."""
    show(connect(data).get("/api/example/busiest", Busiest, {"top": top}), as_json)


@click.command("busiest")
@click.argument("top", type=click.IntRange(1, 1000), required=False)
def busiest_word(top: int | None) -> None:
    """The busiest points (a shell word: `busiest 3`)."""
    show(connect(None).get("/api/example/busiest", Busiest, {"top": top}), False)


def show(reply: Busiest, as_json: bool) -> None:
    if as_json:
        print_json(reply)
        return
    table = Table(caption=f"{reply.total} change(s) counted", caption_justify="left")
    table.add_column("point")
    table.add_column("changes", justify="right")
    for p in reply.points:
        table.add_row(p.point_id, str(p.changes))
    console.print(table)
