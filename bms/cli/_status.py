"""``bms status``: the health of every component of the running daemon; the exit code says the site's."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.text import Text

from bms.cli._app import cli, console, print_json
from bms.cli._common import connect, data_option, json_option
from bms.cli._render import state_text, status_table

#: The exit code of ``bms status`` for the site's state (no daemon answering: 1, as every error).
EXIT_CODES = {"Healthy": 0, "Degraded": 2}
EXIT_OTHERWISE = 1  # Down or Unknown


def exit_code(site_status: str) -> int:
    """0 Healthy, 2 Degraded, 1 Down or Unknown."""
    return EXIT_CODES.get(site_status, EXIT_OTHERWISE)


@cli.command("status")
@data_option
@json_option
def status(data: Path | None, as_json: bool) -> None:
    """Health of the daemon's components: state, restarts, queue depth, reason.

    Exit code, for scripts and monitoring: 0 the site is Healthy, 2 Degraded,
    1 Down or Unknown, or no daemon answering.
    """
    report = connect(data).health()
    if as_json:
        print_json(report)
    else:
        console.print(status_table(report.components))
        console.print(Text.assemble("site: ", state_text(report.status)))
    code = exit_code(report.status)
    if code:
        sys.exit(code)
