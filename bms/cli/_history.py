"""``bms history show``: a point's recorded values as a chart and a table, JSON or CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.text import Text

from bms.api import TIME_HELP
from bms.cli._app import cli, console, print_json
from bms.cli._common import POINT_ID, TIME, connect, data_option, json_option, naming_point
from bms.cli._render import history_chart, history_summary, history_table

if TYPE_CHECKING:
    from bms.api import HistorySeries, Rollup
    from bms.client import ApiClient
    from bms.messages import PointState

ROLLUPS = ("auto", "raw", "15m", "1h", "1d")


def since_option(fn: click.decorators.FC) -> click.decorators.FC:
    """``--since``/``--until``/``--rollup``, shared with the shell's ``trend``."""
    fn = click.option("--rollup", type=click.Choice(ROLLUPS), default="auto", show_default=True,
                      help="Raw samples, a rollup tier, or auto (by span).")(fn)
    fn = click.option("--until", "end", type=TIME, default="now", show_default=True, metavar="TIME",
                      help="End, as --since.")(fn)
    return click.option("--since", "start", type=TIME, default="1h", show_default=True, metavar="TIME",
                        help=f"Start: {TIME_HELP}. Dates and times of day are this computer's local time.")(fn)


def chart_of(client: ApiClient, series: HistorySeries, point: PointState, width: int, height: int = 15) -> str | None:
    """The chart of a point's series: steps with state names for a boolean or multi-state point."""
    states: list[str] = []
    if point.kind in ("bool", "enum"):
        found = client.node(point.point_id).properties.get("states", ())
        states = [str(name) for name in found] if isinstance(found, (list, tuple)) else []
    return history_chart(series, width, height, kind=point.kind, states=states)


@cli.group("history")
def history_group() -> None:
    """Recorded values of points."""


@history_group.command("show")
@click.argument("point_id", metavar="ID", type=POINT_ID)
@since_option
@click.option("--limit", type=click.IntRange(1), metavar="N", help="At most N samples.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row, as the daemon exports it.")
@click.option("--no-chart", is_flag=True, help="The table only.")
@data_option
@json_option
def show(point_id: str, start: float, end: float, rollup: Rollup, limit: int | None,
         as_csv: bool, no_chart: bool, data: Path | None, as_json: bool) -> None:
    """The history of point ID: a chart above the table of values."""
    if end < start:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    client = connect(data)
    with naming_point(client, point_id):
        if as_csv:
            click.echo(client.history_csv(point_id, start, end, rollup, limit), nl=False)
            return
        series = client.history(point_id, start, end, rollup, limit)
    if as_json:
        print_json(series)
        return
    point = client.point(point_id)
    unit = point.unit
    chart = None if no_chart else chart_of(client, series, point, console.width)
    if chart is not None:
        console.print(Text.from_ansi(chart), no_wrap=True, crop=True)
    console.print(history_table(series, unit))
    console.print(history_summary(series), markup=False, highlight=False, soft_wrap=True)
