"""``bms status``: which daemon answers, the health of its components; the exit code says the site's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
from rich.text import Text

from bms.cli._app import cli, console, print_json
from bms.cli._common import connect, data_option, json_option
from bms.cli._render import state_text, status_table
from bms.daemon import DaemonInfo, read_daemon_info

#: The exit code of ``bms status`` for the site's state (no daemon answering: 1, as every error).
EXIT_CODES = {"Healthy": 0, "Degraded": 2}
EXIT_OTHERWISE = 1  # Down or Unknown


def exit_code(site_status: str) -> int:
    """0 Healthy, 2 Degraded, 1 Down or Unknown."""
    return EXIT_CODES.get(site_status, EXIT_OTHERWISE)


def daemon_found(data_dir: Path | None) -> dict[str, Any] | None:
    """The daemon that answered: its pid, data directory and API address (None without a data directory)."""
    info: DaemonInfo | None = read_daemon_info(data_dir) if data_dir is not None else None
    if data_dir is None or info is None:
        return None
    return {"pid": info.pid, "data_dir": str(data_dir), "api_url": info.api_url}


@cli.command("status")
@data_option
@json_option
def status(data: Path | None, as_json: bool) -> None:
    """Health of the daemon's components (state, restarts, queue depth, reason), after its pid, data and API.

    Exit code, for scripts and monitoring: 0 the site is Healthy, 2 Degraded,
    1 Down or Unknown, or no daemon answering.
    """
    client = connect(data)
    report = client.health()
    found = daemon_found(getattr(client, "data_dir", None))
    if as_json:
        body: dict[str, Any] = msgspec.to_builtins(report)
        print_json({"daemon": found, **body} if found is not None else body)
    else:
        if found is not None:
            console.print(f"daemon: pid {found['pid']}, data {found['data_dir']}, API {found['api_url']}",
                          highlight=False, soft_wrap=True)
        console.print(status_table(report.components))
        console.print(Text.assemble("site: ", state_text(report.status)))
    code = exit_code(report.status)
    if code:
        sys.exit(code)
