"""``bms daemon``: run the supervised runtime in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from bms.cli._app import cli


@cli.command("daemon")
@click.option("--config", "-c", type=click.Path(path_type=Path, dir_okay=False),
              help="Settings file (default conf/bms.toml) or a scenario file.")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), envvar="BMS_DATA",
              help="Data directory (env BMS_DATA; default from the settings).")
@click.option("--api-port", type=click.IntRange(0, 65535), default=None,
              help="API port; 0 picks a free one (recorded in the data directory).")
@click.option("--simulate/--no-simulate", default=None,
              help="Start the scenario's simulated devices (default: as the scenario says).")
def daemon(config: Path | None, data: Path | None, api_port: int | None, simulate: bool | None) -> None:
    """Run the site: bridges, stores, engines and the local API, until SIGTERM."""
    from actors.daemon import run  # the actor layer only when the daemon runs

    raise SystemExit(run(config, data, api_port, simulate))
