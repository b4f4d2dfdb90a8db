"""``bms devices probe modbus HOST``: which unit ids answer at a Modbus TCP address, kept as discovered devices.

Each unit id in ``--units`` is asked for the probe registers (holding 0 and
input 0); a unit that answers any of them, an exception included, is
present and is asked for its identification (FC43). What answered is kept in
``discovery.db`` (protocol modbus, id ``modbus:HOST:PORT:UNIT``), to be
accepted with a profile (``bms devices accept ID --profile power-meter``).
With a daemon running the probe runs in its devices service (which owns
``discovery.db``); without one, here. A terminal shows a bar: unit ids
tried of how many, units answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from bms.cli._app import console, print_json
from bms.cli._common import connect, data_dir, data_option, json_option
from bms.cli._common import daemon_running as _daemon_running
from bms.cli._devices import _commissioning, _site, devices_group, scenario_option
from bms.cli._scan import ScanBars
from bms.errors import ConfigError
from bms.messages import DeviceRecord, DiscoveryProgress

if TYPE_CHECKING:
    from bms.config import LoadedScenario

TASK = "unit ids tried"


def parse_units(text: str) -> list[int]:
    """``"1-10,17"`` -> [1..10, 17]; ConfigError naming the bad part."""
    units: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ConfigError(f"--units: {part!r} is not a unit id or a range like 1-10") from None
        if not 0 <= first <= last <= 247:
            raise ConfigError(f"--units: {part!r} must be within 0..247, low before high")
        units.extend(range(first, last + 1))
    return sorted(set(units))


def probe_bar(on: Console | None = None) -> Progress:
    """A bar with its count (``3/10``): drawn on a terminal only, gone when done."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=on or console,
                    transient=True)


@devices_group.command("probe")
@click.argument("protocol", type=click.Choice(["modbus"]))
@click.argument("host")
@click.option("--port", type=click.IntRange(1, 65535), default=502, show_default=True)
@click.option("--units", default="1-10", show_default=True, help="Unit ids to try: 1-10,17.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=0.5, show_default=True,
              help="Seconds to wait for each unit.")
@scenario_option
@data_option
@json_option
def probe_devices(protocol: str, host: str, port: int, units: str, timeout: float, scenario: Path | None,
                  data: Path | None, as_json: bool) -> None:
    """Find the unit ids answering at HOST:PORT, read their identification, keep them as discovered devices."""
    wanted = parse_units(units)
    path = data_dir(data)
    if _daemon_running(path):
        client = connect(data)
        if as_json:
            found = client.discover("modbus", timeout=timeout, network=f"{host}:{port}", units=wanted)
        else:
            with probe_bar() as bar:
                found = client.discover("modbus", timeout=timeout, network=f"{host}:{port}", units=wanted,
                                        progress=ScanBars(bar, probe=True).show)
    else:
        found = _probe_here(path, _site(scenario), host, port, wanted, timeout, as_json)
    if as_json:
        print_json(found)
        return
    console.print(units_table(host, port, found))
    if not found:
        console.print(f"no unit among {units} answered at {host}:{port}", style="yellow")


def _probe_here(path: Path, site: LoadedScenario | None, host: str, port: int, wanted: list[int], timeout: float,
                as_json: bool) -> list[DeviceRecord]:
    """The probe in this process, saved into discovery.db."""
    import time

    from bms.modbus import probe

    with probe_bar() as bar:
        bars = None if as_json else ScanBars(bar, probe=True)

        def progress(done: int, total: int, answered: int) -> None:
            if bars is not None:
                bars.show(DiscoveryProgress(scan="local", network=f"{host}:{port}", task=TASK, done=done,
                                            total=total, ts=time.time(), devices=answered))

        results = asyncio.run(probe(host, port, wanted, timeout=timeout, progress=progress))
    with _commissioning(path, site) as devices:
        saved = devices.store.units.save_many(host, port, results, time.time())
        return [devices.unit_record(unit) for unit in saved]


def units_table(host: str, port: int, found: Sequence[DeviceRecord]) -> Table:
    """The units that answered: their id, which probe registers answered, their identification and state."""
    table = Table(title=f"Modbus units at {host}:{port}", caption=f"{len(found)} unit(s)", caption_justify="left")
    for col in ("id", "unit", "registers", "identification", "state", "note"):
        table.add_column(col, justify="right" if col == "unit" else "left", no_wrap=col == "id")
    for r in found:
        table.add_row(Text(r.device_id), str(r.unit_id if r.unit_id is not None else "—"),
                      Text(", ".join(r.registers) or "none"), Text(r.identification or "—"), r.state, Text(r.reason))
    return table
