"""``bms fleet status``: the sites publishing to a broker, from their retained status topics."""

from __future__ import annotations

import time

import click
from rich.table import Table
from rich.text import Text

from bms.cli import console, fail, json_option, print_json
from bms.errors import BmsError
from bms.export import url_problem

STATE_STYLE = {"online": "green", "offline": "bold red", "stale": "yellow", "unknown": "magenta"}
HEALTH_STYLE = {"Healthy": "green", "Degraded": "yellow", "Down": "bold red", "Unknown": "dim"}


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86_400:.1f} d ago"


def _broker(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    why = url_problem(value)
    if why:
        raise click.BadParameter(why)
    return value


@click.group("fleet")
def fleet() -> None:
    """Sites that publish to one MQTT broker (multi-site federation)."""


@fleet.command("status")
@click.option("--broker", required=True, metavar="URL", envvar="BMS_MQTT", callback=_broker,
              help="The broker, mqtt://host:1883 or mqtts://host:8883 (env BMS_MQTT).")
@click.option("--prefix", default="bms", show_default=True, help="The topic prefix the sites publish under.")
@click.option("--username", default="", envvar="BMS_MQTT_USERNAME", help="Broker user (env BMS_MQTT_USERNAME).")
@click.option("--password", default="", envvar="BMS_MQTT_PASSWORD", help="Broker password (env BMS_MQTT_PASSWORD).")
@click.option("--wait", type=click.FloatRange(0.1, 60), default=3.0, show_default=True,
              help="Seconds to wait for the retained statuses at most.")
@click.option("--stale", type=click.FloatRange(1), default=180.0, show_default=True,
              help="An online site not heard of for this many seconds is shown stale.")
@json_option
def fleet_status(broker: str, prefix: str, username: str, password: str, wait: float, stale: float,
                 as_json: bool) -> None:
    """The sites under PREFIX with their health, last-seen time and active alarm counts."""
    from actors.components.mqtt._fleet import fleet_sites, read_fleet

    try:
        found = read_fleet(broker, prefix, username=username, password=password, wait=wait)
    except BmsError as err:
        fail(str(err), as_json=as_json)
    sites = fleet_sites(found, time.time(), stale)
    if as_json:
        print_json(sites)
        return
    if not sites:
        console.print(f"no sites under {prefix!r} on {broker}")
        return
    table = Table(title=f"{len(sites)} site(s) under {prefix!r}")
    for column in ("org", "site", "instance", "state", "health", "last seen", "alarms", "devices down", "problems"):
        table.add_column(column, justify="right" if column == "alarms" else "left")
    for s in sites:
        alarms = f"{s.active_alarms}" + (f" ({s.unacked_alarms} unacked)" if s.unacked_alarms else "")
        table.add_row(s.org, s.site + (f" ({s.name})" if s.name and s.name != s.site else ""), s.device,
                      Text(s.state, style=STATE_STYLE.get(s.state, "")),
                      Text(s.health, style=HEALTH_STYLE.get(s.health, "")),
                      _age(s.age) if s.last_seen else "-", alarms, ", ".join(s.devices_down) or "-",
                      s.error or "; ".join(s.problems) or "-")
    console.print(table)
