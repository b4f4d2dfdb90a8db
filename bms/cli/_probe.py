"""``bms devices probe modbus HOST``: which unit ids answer at a Modbus TCP address.

A commissioning aid: it reads nothing into the site. Each unit id in
``--units`` is asked for two holding registers; the ones that answer are
asked for their identification (FC43/14) and listed.
"""

from __future__ import annotations

import asyncio

import click
from rich.table import Table

from bms.cli._app import console, print_json
from bms.cli._common import json_option
from bms.cli._devices import devices_group
from bms.errors import ConfigError
from bms.modbus import ProbeResult, probe


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


@devices_group.command("probe")
@click.argument("protocol", type=click.Choice(["modbus"]))
@click.argument("host")
@click.option("--port", type=click.IntRange(1, 65535), default=502, show_default=True)
@click.option("--units", default="1-10", show_default=True, help="Unit ids to try: 1-10,17.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=0.5, show_default=True,
              help="Seconds to wait for each unit.")
@json_option
def probe_devices(protocol: str, host: str, port: int, units: str, timeout: float, as_json: bool) -> None:
    """Find the unit ids answering at HOST:PORT and read their identification."""
    wanted = parse_units(units)
    with console.status(f"probing {len(wanted)} unit id(s) at {host}:{port}"):
        found = asyncio.run(probe(host, port, wanted, timeout=timeout))
    if as_json:
        print_json([{"unit_id": r.unit_id, "reply": r.reply, "vendor": r.vendor, "product_code": r.product_code,
                     "revision": r.revision} for r in found])
        return
    console.print(_table(host, port, found))
    if not found:
        console.print(f"no unit among {units} answered at {host}:{port}", style="yellow")


def _table(host: str, port: int, found: list[ProbeResult]) -> Table:
    table = Table(title=f"Modbus units at {host}:{port}")
    for col in ("unit", "reply", "vendor", "product", "revision"):
        table.add_column(col, justify="right" if col == "unit" else "left")
    for r in found:
        table.add_row(str(r.unit_id), r.reply, r.vendor or "—", r.product_code or "—", r.revision or "—")
    return table
