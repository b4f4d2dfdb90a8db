"""``bms shell``: the operator's interactive shell on the running daemon."""

from __future__ import annotations

from pathlib import Path

from bms.cli._app import cli
from bms.cli._common import connect, data_dir, data_option


@cli.command("shell")
@data_option
def shell(data: Path | None) -> None:
    """Read, write, override, watch and trend points at a prompt.

    The commands are those of `bms` without the prefix (status, points list,
    point write ...), plus watch, trend, debug, help and exit. Commands piped
    in run one per line; the exit code is 1 if any of them failed. The prompt
    shows who you are (the local admin, or `bms --user NAME shell`).
    """
    from bms.shell import run  # prompt_toolkit only when the shell starts

    client = connect(data, origin="shell")
    raise SystemExit(run(client, data_dir(data)))
