"""``bms status``: the health of every component of the running daemon."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from bms.cli._app import cli, console, print_json
from bms.cli._common import connect, data_option, json_option
from bms.cli._render import state_text, status_table


@cli.command("status")
@data_option
@json_option
def status(data: Path | None, as_json: bool) -> None:
    """Health of the daemon's components: state, restarts, queue depth, reason."""
    report = connect(data).health()
    if as_json:
        print_json(report)
        return
    console.print(status_table(report.components))
    console.print(Text.assemble("site: ", state_text(report.status)))
