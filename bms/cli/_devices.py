"""``bms devices discover|list|show|accept|ignore``: commissioning the site's field devices.

With a daemon running on the data directory every command goes through its
API (the devices service); ``discover`` follows the scan's progress on the
daemon's live stream while its request waits, and draws it as the
in-process scan does (a bar per task, devices found and objects read). Without one, ``discover`` scans
in-process with its own BACnet client (``--local``, default the network's
address, 127.0.0.1/8:47809) and a progress bar, and writes ``discovery.db`` itself;
``list``, ``show``, ``accept`` and ``ignore`` then read and write
``discovery.db`` directly, deciding as the daemon's devices service does
(:class:`~bms.bacnet.Commissioning`); accept marks the device Accepted and
leaves the node creation to the daemon's next start.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from bms.cli._app import cli, console, print_json
from bms.cli._common import connect, data_dir, data_option, json_option
from bms.cli._render import format_time
from bms.cli._scan import ScanBars
from bms.errors import ConfigError, NotFound
from bms.messages import DeviceRecord

if TYPE_CHECKING:
    from bms.bacnet import Commissioning, DiscoveredDevice, DiscoveryStore, StoredObject
    from bms.config import LoadedScenario

_STATE_STYLES = {"Discovered": "cyan", "Accepted": "green", "Ignored": "dim", "Configured": "bold"}


# ------------------------------------------------------------------ rendering


def devices_table(records: Sequence[DeviceRecord]) -> Table:
    """Devices: id, protocol, address, name, state, online, points and objects (vendor and model: ``show``)."""
    table = Table(caption=f"{len(records)} device(s)", caption_justify="left")
    for name, justify in (("id", "left"), ("protocol", "left"), ("address", "left"), ("name", "left"),
                          ("state", "left"), ("online", "left"), ("points", "right"), ("objects", "right")):
        table.add_column(name, justify=justify, no_wrap=name in ("id", "address"))  # type: ignore[arg-type]
    for r in records:
        online = Text("—") if r.online is None else Text("yes", "green") if r.online else Text("no", "bold red")
        table.add_row(Text(r.device_id), r.protocol, Text(r.address), Text(r.name),
                      Text(r.state, _STATE_STYLES.get(r.state, "")), online, str(r.points or ""), str(r.objects or ""))
    return table


def device_table(record: DeviceRecord) -> Table:
    """One device, field by field."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    online = "—" if record.online is None else "yes" if record.online else "no"
    rows = [("id", record.device_id), ("protocol", record.protocol), ("address", record.address),
            ("name", record.name), ("vendor", record.vendor), ("model", record.model), ("state", record.state),
            ("online", online), ("last seen", format_time(record.last_seen)), ("points", str(record.points)),
            ("objects", str(record.objects)), ("note", record.reason)]
    for key, value in rows:
        if value:
            table.add_row(key, Text(value))
    return table


def objects_table(objects: Sequence[StoredObject]) -> Table:
    """The objects discovery found on a device."""
    table = Table(title="objects", title_justify="left")
    unreadable = any(o.unreadable for o in objects)
    for name in ("object", "name", "unit", "kind", "commandable", *(("unreadable",) if unreadable else ())):
        table.add_column(name, no_wrap=name == "object")
    for o in objects:
        row: list[Text | str] = [Text(o.objid), Text(o.name), Text(o.unit), o.kind, "yes" if o.commandable else ""]
        if unreadable:  # properties the device answered wrongly, and why
            row.append(Text("; ".join(o.unreadable), style="yellow"))
        table.add_row(*row)
    return table


# ------------------------------------------------------------------ daemon or not


def _daemon_running(path: Path) -> bool:
    from bms.daemon import read_daemon_info

    info = read_daemon_info(path)
    if info is None:
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _site(scenario: Path | None) -> LoadedScenario | None:
    """The scenario to commission: --scenario, else the settings' (None if there is none)."""
    from bms.config import load_scenario, load_settings, scenario_path

    if scenario is not None:
        return load_scenario(scenario)
    try:
        settings, path = load_settings()
        return load_scenario(scenario_path(settings, path))
    except ConfigError:
        return None


@contextmanager
def _store(path: Path) -> Iterator[DiscoveryStore]:
    from bms.bacnet import DiscoveryStore

    with DiscoveryStore(path / "discovery.db") as store:  # creates the data directory (0700) if needed
        yield store


@contextmanager
def _commissioning(path: Path, site: LoadedScenario | None) -> Iterator[Commissioning]:
    """The site's devices on the data directory, decided as the daemon's devices service does."""
    from bms.bacnet import Commissioning

    with _store(path) as store:
        yield Commissioning(site, store, path)


def _offline_records(path: Path, site: LoadedScenario | None) -> list[DeviceRecord]:
    with _commissioning(path, site) as devices:
        return devices.records()


def _offline_record(path: Path, site: LoadedScenario | None, device_id: str) -> DeviceRecord:
    with _commissioning(path, site) as devices:
        return devices.record(device_id)


def _scan(path: Path, site: LoadedScenario | None, network_name: str | None, local: str | None,
          low: int | None, high: int | None, timeout: float) -> list[DeviceRecord]:
    """Discovery in this process, with a progress bar; saved into discovery.db."""
    import msgspec

    from bms.bacnet import BacnetClient, discover
    from bms.config import BacnetNetwork

    networks = site.scenario.networks.bacnet if site else {}
    name = network_name or next(iter(networks), "default")
    if network_name is not None and network_name not in networks:
        raise ConfigError(f"unknown BACnet network {network_name!r}" +
                          (f": the scenario has {', '.join(networks)}" if networks else ""))
    network = networks.get(name, BacnetNetwork())
    if local is not None:
        network = msgspec.structs.replace(network, address=local)

    from bms.devices import ScanTally

    with Progress(console=console, transient=True) as bar:
        bars, tally = ScanBars(bar), ScanTally("local", name)

        def progress(task: str, done: int, total: int) -> None:
            bars.show(tally.step(task, done, total, 0.0))

        async def run() -> list[DiscoveredDevice]:
            async with BacnetClient(network, name="bms-discovery") as client:
                return await discover(client, low, high, timeout, progress, network=name)

        found = asyncio.run(run())
    instances = {d.instance for d in found}
    with _commissioning(path, site) as devices:
        devices.store.save_many(found)
        return [r for r in devices.records() if devices.record_instance(r) in instances]


def _daemon_scan(data: Path | None, protocol: str, low: int | None, high: int | None, timeout: float,
                 network: str | None) -> list[DeviceRecord]:
    """Discovery in the daemon, its progress drawn from the daemon's live stream while the request waits."""
    client = connect(data)
    with Progress(console=console, transient=True) as bar:
        return client.discover(protocol, low, high, timeout, network, progress=ScanBars(bar).show)


def _show(records: Sequence[DeviceRecord] | DeviceRecord, as_json: bool) -> None:
    if as_json:
        print_json(records)
    elif isinstance(records, DeviceRecord):
        console.print(device_table(records))
    else:
        console.print(devices_table(records))


def scenario_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False, exists=True),
                        help="Scenario to commission without a daemon (default: the settings').")(fn)


# ------------------------------------------------------------------ commands


@cli.group("devices")
def devices_group() -> None:
    """Discover, list, accept and ignore field devices."""


@devices_group.command("discover")
@click.argument("protocol", type=click.Choice(["bacnet"]))
@click.option("--range", "limits", type=(click.IntRange(0, 4194303), click.IntRange(0, 4194303)), default=None,
              metavar="LOW HIGH", help="Only device instances LOW..HIGH.")
@click.option("--network", metavar="NAME", help="BACnet network of the scenario to scan (default: the first).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True,
              help="Seconds to wait for I-Am answers.")
@click.option("--local", metavar="ADDRESS", help="Own address without a daemon, e.g. 127.0.0.1/8:47809.")
@scenario_option
@data_option
@json_option
def discover_devices(protocol: str, limits: tuple[int, int] | None, network: str | None, timeout: float,
                     local: str | None, scenario: Path | None, data: Path | None, as_json: bool) -> None:
    """Find the devices of a network (Who-Is), read their objects and save them."""
    low, high = limits if limits else (None, None)
    if low is not None and high is not None and low > high:
        raise ConfigError(f"--range: LOW {low} is above HIGH {high}")
    path = data_dir(data)
    if _daemon_running(path):
        found = _daemon_scan(data, protocol, low, high, timeout, network)
    else:
        found = _scan(path, _site(scenario), network, local, low, high, timeout)
    _show(found, as_json)
    if not as_json and not found:
        console.print("no devices answered", style="yellow")


@devices_group.command("list")
@click.option("--protocol", type=click.Choice(["bacnet", "modbus", "virtual"]), help="Only this protocol.")
@scenario_option
@data_option
@json_option
def list_devices(protocol: str | None, scenario: Path | None, data: Path | None, as_json: bool) -> None:
    """The site's devices and those discovery found, with their state."""
    path = data_dir(data)
    if _daemon_running(path):
        records = connect(data).devices(protocol)
    else:
        records = [r for r in _offline_records(path, _site(scenario)) if protocol in (None, r.protocol)]
    _show(records, as_json)


@devices_group.command("show")
@click.argument("device_id", metavar="ID")
@scenario_option
@data_option
@json_option
def show_device(device_id: str, scenario: Path | None, data: Path | None, as_json: bool) -> None:
    """One device, and the objects discovery found on it."""
    path = data_dir(data)
    running = _daemon_running(path)
    site = None if running else _site(scenario)
    record = connect(data).device(device_id) if running else _offline_record(path, site, device_id)
    _show(record, as_json)
    if as_json or not (path / "discovery.db").exists():
        return
    with _commissioning(path, site) as devices:
        instance = devices.record_instance(record)
        try:
            objects = devices.store.objects(instance) if instance is not None else []
        except NotFound:
            return
    if objects:
        console.print(objects_table(objects))


@devices_group.command("accept")
@click.argument("device_id", metavar="ID")
@click.option("--profile", metavar="NAME", help="Device profile naming the points (default: the discovered objects).")
@click.option("--equip-id", metavar="ID", help="Id of the new equipment (default: from the device's name).")
@scenario_option
@data_option
@json_option
def accept_device(device_id: str, profile: str | None, equip_id: str | None, scenario: Path | None,
                  data: Path | None, as_json: bool) -> None:
    """Take discovered device ID into the site: equipment and points in the model."""
    path = data_dir(data)
    if _daemon_running(path):
        record = connect(data).accept(device_id, profile, equip_id)
    else:
        site = _site(scenario)
        with _commissioning(path, site) as devices:
            stored = devices.acceptable(device_id)
        if profile is not None:
            _check_profile(site, profile)
        with _commissioning(path, site) as devices:
            record = devices.defer(stored, profile, equip_id)
    _show(record, as_json)
    if not as_json and not _daemon_running(path):
        console.print(f"{record.device_id} accepted: no daemon runs on {path}, "
                      "so its equipment and points are created when the daemon next starts", highlight=False)


def _check_profile(site: LoadedScenario | None, name: str) -> None:
    from bms.config import CONF_DIR, find_profile, profile_dirs

    find_profile(name, profile_dirs(site.path, site.scenario) if site else [CONF_DIR / "profiles"])


@devices_group.command("ignore")
@click.argument("device_id", metavar="ID")
@scenario_option
@data_option
@json_option
def ignore_device(device_id: str, scenario: Path | None, data: Path | None, as_json: bool) -> None:
    """Hide discovered device ID from the site (it stays ignored on re-discovery)."""
    path = data_dir(data)
    if _daemon_running(path):
        record = connect(data).ignore(device_id)
    else:
        with _commissioning(path, _site(scenario)) as devices:
            record = devices.ignore(device_id)
    _show(record, as_json)
