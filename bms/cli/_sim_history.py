"""``bms sim history``: generated, plausible history for a scenario's meter and outdoor-air points.

A year (``--days``) of weather-driven 15-minute samples -- outdoor temperature and the meter's kW
(its kWh follow: the energy engine integrates the kW) -- written into the data directory's
history.db through the writer's bulk path, ending where the recorded history of those points
begins (or now), so baselines, bills and demand figures have something to work on before the
site has run a year. history.db has one writer: with a daemon running on the data directory the command refuses and says so.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from bms.cli._common import daemon_running, data_dir, data_option
from bms.config import CONF_DIR, load_scenario
from bms.errors import ConfigError, StoreError

DEMO = CONF_DIR / "scenarios" / "demo.toml"


def _points(path: Path | None) -> tuple[str, str, str]:
    """(the site's time zone, the meter's power point, the OAT point) of the scenario."""
    from bms.model import build_nodes
    from bms.points import point_infos

    loaded = load_scenario(path or DEMO)
    nodes = build_nodes(loaded.scenario, loaded.profiles)
    infos, _ = point_infos(nodes)
    power = sorted(i.point_id for i in infos if {"power", "sensor"} <= i.tags and i.spec.unit.lower() == "kw"
                   and not i.virtual)
    if not power:
        raise ConfigError(f"{loaded.path}: no power point (tags power, sensor; unit kW) to generate history for")
    oat = sorted(i.point_id for i in infos if {"outside", "air", "temp", "sensor"} <= i.tags)
    if not oat:
        raise ConfigError(f"{loaded.path}: no outdoor-air temperature point (tags outside, air, temp, sensor)")
    return loaded.scenario.site.timezone, power[0], oat[0]


@click.command("history")
@click.option("--days", type=click.FloatRange(1, 3650), default=365, show_default=True,
              help="How many days of history to generate.")
@click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False),
              help="Scenario whose meter and outdoor-air points to use (default: the bundled demo).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the weather and the noise.")
@data_option
def sim_history(days: float, scenario: Path | None, seed: int, data: Path | None) -> None:
    """Write generated weather-driven history (outdoor temperature, a meter's kW) into history.db."""
    from bms.history import HistoryReader
    from bms.sim._history import generate, write_history

    directory = data_dir(data)
    if daemon_running(directory):
        raise ConfigError(f"a bms daemon runs on {directory}: stop it first (history.db has one writer)")
    timezone, power, oat = _points(scenario)
    path = directory / "history.db"
    end = time.time()
    if path.is_file():
        with HistoryReader(path) as reader:
            firsts = [p.first_ts for p in reader.points() if p.point_id in (power, oat) and p.first_ts]
        if firsts:
            end = min(end, min(firsts))
    started = time.perf_counter()
    ts, temps, kw, _kwh = generate(days, end, ZoneInfo(timezone), seed=seed)
    series = {oat: (ts, temps), power: (ts, kw)}
    directory.mkdir(parents=True, exist_ok=True)
    try:
        written = write_history(path, series)
    except StoreError as err:
        raise ConfigError(f"{path}: {err}") from err
    span = f"{datetime.fromtimestamp(ts[0]):%Y-%m-%d %H:%M} to {datetime.fromtimestamp(ts[-1]):%Y-%m-%d %H:%M}"
    click.echo(f"wrote {written:,} values of {', '.join(series)} ({days:g} days, {span}) into {path} "
               f"in {time.perf_counter() - started:.1f} s")
