"""``bms devices discover|list|show|accept|ignore|remove``: commissioning the site's field devices.

One device has one id everywhere: a configured device its scenario id
(discovery finding it again included), else ``bacnet:<instance>`` or
``modbus:<host>:<port>:<unit>``; an accepted device's equipment id names it
too. Its online state is the bridges' (answering, not answering, unknown)
when a daemon runs; without one, when it last answered.

With a daemon running on the data directory every command goes through its
API (the devices service); ``discover`` follows the scan's progress on the
daemon's live stream while its request waits, and draws it as the
in-process scan does (a bar per task, devices found and objects read). Without one, ``discover`` scans
in-process with its own BACnet client (``--local``, default the network's
address, 127.0.0.1/8:47809) and a progress bar, and writes ``discovery.db`` itself;
``list``, ``show``, ``accept`` and ``ignore`` then read and write
``discovery.db`` directly, deciding as the daemon's devices service does
(:class:`~bms.bacnet.Commissioning`); accept marks the device Accepted and
leaves the node creation to the daemon's next start; remove deletes its
nodes from ``nodes.db`` itself. Those offline changes (discover, accept,
ignore, remove) are in the audit log as the OS user, from ``cli``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from bms.audit import audited
from bms.cli._app import cli, console, fail, print_json
from bms.cli._common import connect, data_dir, data_option, json_option
from bms.cli._common import daemon_running as _daemon_running  # (tests stand in for it)
from bms.cli._render import format_time
from bms.cli._scan import ScanBars
from bms.errors import ConfigError, NotFound
from bms.messages import DeviceRecord

if TYPE_CHECKING:
    from bms.bacnet import Commissioning, DiscoveredDevice, DiscoveryStore, StoredObject
    from bms.config import LoadedScenario, Profile

_STATE_STYLES = {"Discovered": "cyan", "Accepted": "green", "Ignored": "dim", "Configured": "bold"}


# ------------------------------------------------------------------ rendering


def online_text(record: DeviceRecord, live: bool = True) -> Text:
    """answering / not answering / unknown (the bridges', ``live``); without a daemon, when it last answered."""
    if not live:
        return Text(f"last answered {format_time(record.last_seen)}" if record.last_seen else "unknown", "dim")
    if record.online is None:
        return Text("unknown", "dim")
    return Text("answering", "green") if record.online else Text("not answering", "bold red")


def devices_table(records: Sequence[DeviceRecord], live: bool = True) -> Table:
    """Devices: id, protocol, address, name, state, online, points and objects (vendor and model: ``show``)."""
    table = Table(caption=f"{len(records)} device(s)", caption_justify="left")
    for name, justify in (("id", "left"), ("protocol", "left"), ("address", "left"), ("name", "left"),
                          ("state", "left"), ("online", "left"), ("points", "right"), ("objects", "right")):
        table.add_column(name, justify=justify, no_wrap=name in ("id", "address"))  # type: ignore[arg-type]
    for r in records:
        table.add_row(Text(r.device_id), r.protocol, Text(_address(r)), Text(r.name),
                      Text(r.state, _STATE_STYLES.get(r.state, "")), online_text(r, live), str(r.points or ""),
                      str(r.objects or ""))
    return table


def _address(record: DeviceRecord) -> str:
    return f"{record.address} unit {record.unit_id}" if record.unit_id is not None else record.address


def device_table(record: DeviceRecord, live: bool = True) -> Table:
    """One device, field by field."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    rows = [("id", record.device_id), ("protocol", record.protocol), ("address", _address(record)),
            ("name", record.name), ("vendor", record.vendor), ("model", record.model), ("state", record.state),
            ("online", online_text(record, live).plain), ("last seen", format_time(record.last_seen)),
            ("points", str(record.points)), ("objects", str(record.objects)),
            ("registers", ", ".join(record.registers) + " answered" if record.registers else ""),
            ("identification", record.identification), ("note", record.reason)]
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


def _show(records: Sequence[DeviceRecord] | DeviceRecord, as_json: bool, live: bool = True) -> None:
    if as_json:
        print_json(records)
    elif isinstance(records, DeviceRecord):
        console.print(device_table(records, live))
    else:
        console.print(devices_table(records, live))


def scenario_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False, exists=True),
                        help="Scenario to commission without a daemon (default: the settings').")(fn)


# ------------------------------------------------------------------ commands


@cli.group("devices")
def devices_group() -> None:
    """Discover, probe, list, accept, ignore and remove field devices."""


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
    """Find the devices of a network (Who-Is), read their objects and save them.

    Each device is shown with the id that list, show, accept and ignore take."""
    low, high = limits if limits else (None, None)
    if low is not None and high is not None and low > high:
        raise ConfigError(f"--range: LOW {low} is above HIGH {high}")
    path = data_dir(data)
    live = _daemon_running(path)
    if live:
        found = _daemon_scan(data, protocol, low, high, timeout, network)
    else:
        with audited(path, "discoverDevices", network or protocol) as change:
            found = _scan(path, _site(scenario), network, local, low, high, timeout)
            change.after = {"found": [r.device_id for r in found]}
    _show(found, as_json, live)
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
    live = _daemon_running(path)
    if live:
        records = connect(data).devices(protocol)
    else:
        records = [r for r in _offline_records(path, _site(scenario)) if protocol in (None, r.protocol)]
    _show(records, as_json, live)


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
    _show(record, as_json, running)
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
@click.option("--profile", metavar="NAME",
              help="Device profile naming the points (default: the discovered objects; a Modbus unit needs one).")
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
        with audited(path, "acceptDevice", device_id) as change:
            site = _site(scenario)
            with _commissioning(path, site) as devices:
                stored = devices.acceptable(device_id)
            if profile is not None:
                devices.check_profile(stored, _check_profile(site, profile))
            with _commissioning(path, site) as devices:
                record = devices.defer(stored, profile, equip_id)
            change.after = {"state": record.state, "profile": profile, "equip_id": equip_id}
    _show(record, as_json)
    if not as_json and not _daemon_running(path):
        console.print(f"{record.device_id} accepted: no daemon runs on {path}, "
                      "so its equipment and points are created when the daemon next starts", highlight=False)


def _check_profile(site: LoadedScenario | None, name: str) -> Profile:
    from bms.config import CONF_DIR, find_profile, profile_dirs

    return find_profile(name, profile_dirs(site.path, site.scenario) if site else [CONF_DIR / "profiles"])


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
        with audited(path, "ignoreDevice", device_id) as change, _commissioning(path, _site(scenario)) as devices:
            record = devices.ignore(device_id)
            change.after = {"state": record.state}
    _show(record, as_json)


@devices_group.command("remove")
@click.argument("device_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Remove without asking (needed in a script).")
@scenario_option
@data_option
@json_option
def remove_device(device_id: str, yes: bool, scenario: Path | None, data: Path | None, as_json: bool) -> None:
    """Take accepted device ID out of the site: its equipment, points and bindings (history is kept).

    Its bridge stops polling it; it is a Discovered device again. Asks on a
    terminal; a script gives --yes."""
    path = data_dir(data)
    running = _daemon_running(path)
    site = None if running else _site(scenario)
    before = connect(data).device(device_id) if running else _offline_record(path, site, device_id)
    if not yes:
        _confirm_removal(before)
    record = connect(data).remove(device_id) if running else _remove_offline(path, site, device_id)
    _show(record, as_json, running)
    if not as_json:
        console.print(f"{record.device_id} removed from the site", highlight=False)


def _confirm_removal(record: DeviceRecord) -> None:
    from bms.cli import _points

    what = f"{record.device_id} ({record.name}{', ' + record.reason if record.reason else ''})"
    if not _points.on_terminal():
        fail(f"{record.device_id}: removing a device from the site: add --yes to remove it from a script")
    if not click.confirm(f"Remove {what} and its {record.points} point(s) from the site?", default=False):
        fail(f"{record.device_id}: not removed (not confirmed)")


def _remove_offline(path: Path, site: LoadedScenario | None, device_id: str) -> DeviceRecord:
    """Without a daemon: its nodes out of nodes.db, the device Discovered again in discovery.db."""
    import getpass

    from bms.clock import WallClock
    from bms.logs import get_logger
    from bms.model import NodeStore

    with _commissioning(path, site) as devices:
        gone: list[str] = []
        model_file = path / "nodes.db"
        if model_file.exists():
            with NodeStore(model_file, WallClock()) as model:
                devices.know_model(model.all())
                found, equip = devices.removable(device_id)
                if equip is not None:
                    gone = [event.node_id for event in model.delete(equip, recursive=True)]
        else:
            found, equip = devices.removable(device_id)
        record = devices.removed(found)
    get_logger("devices").info("device removed", device=record.device_id, equip=equip, nodes=len(gone),
                               user=getpass.getuser())
    return record
