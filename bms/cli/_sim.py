"""``bms sim modbus|bacnet``: serve a scenario's devices as simulators until Ctrl-C.

The same commands make the ``bms-sim`` console script (:data:`standalone`).
Each prints one line per unit or device served, then serves until SIGINT
or SIGTERM and exits 0. An address another process holds is refused before
anything is served: one line naming it and its holder, exit 1 (BACnet's UDP
addresses are never shared, see :mod:`bms.ports`). Without ``--scenario`` they serve the demo's devices.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import click

from bms import __version__
from bms.cli._app import BmsGroup, cli
from bms.cli._common import data_option
from bms.cli._sim_history import sim_history
from bms.config import CONF_DIR, LoadedScenario, load_scenario
from bms.errors import BindError, ConfigError, ProtocolError
from bms.ports import Endpoint, ensure_all_free
from bms.sim.cli import ModbusServer, bacnet_devices, bind_problem, modbus_servers

DEMO = CONF_DIR / "scenarios" / "demo.toml"

scenario_option = click.option(
    "--scenario", "scenario", type=click.Path(path_type=Path, dir_okay=False),
    help="Scenario whose devices to serve (default: the bundled demo).",
)


def _load(path: Path | None) -> LoadedScenario:
    from bms.logs import configure

    configure(level="warning")  # log lines go to stderr; stdout says what is served
    return load_scenario(path or DEMO)


def _notes(notes: list[str]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)


class _Signals:
    """SIGINT/SIGTERM set an event (installed before anything is served, so none is missed)."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.loop.add_signal_handler(sig, self.stop.set)

    async def wait(self) -> None:
        click.echo("serving; Ctrl-C to stop")
        await self.stop.wait()

    def close(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.loop.remove_signal_handler(sig)


@click.command("modbus")
@scenario_option
@click.option("--host", help="Serve every device on this address instead of its own.")
@click.option("--port", type=click.IntRange(0, 65535), help="Serve every device on this port (0: a free one).")
def sim_modbus(scenario: Path | None, host: str | None, port: int | None) -> None:
    """Serve the scenario's Modbus TCP devices (units by unit id) until Ctrl-C."""
    site = _load(scenario)
    servers, notes = modbus_servers(site, host, port)
    _notes(notes)
    if not servers:
        raise ConfigError(f"{site.path}: no Modbus TCP devices to simulate")
    asyncio.run(_serve_modbus(servers))


async def _serve_modbus(servers: list[ModbusServer]) -> None:
    from bms.sim.modbus import ModbusSimulator

    started: list[ModbusSimulator] = []
    signals = _Signals()
    try:
        ensure_all_free(Endpoint(s.host, s.port, "tcp") for s in servers)  # a held port: refused, holder named
        for server in servers:
            sim = ModbusSimulator(server.units, server.host, server.port, orders=server.orders)
            try:
                await sim.start()
            except (RuntimeError, OSError) as err:
                why = bind_problem(server.host, server.port) or str(err)
                raise ProtocolError(f"cannot serve Modbus on {server.address}: {why}") from err
            started.append(sim)
            for unit, device in sorted(server.devices.items()):
                profile = server.units[unit]
                click.echo(f"modbus {sim.host}:{sim.port} unit {unit}: {device} ({profile.name}, "
                           f"{server.orders[unit]})")
        await signals.wait()
    finally:
        for sim in started:
            await sim.stop()
        signals.close()


@click.command("bacnet")
@scenario_option
def sim_bacnet(scenario: Path | None) -> None:
    """Serve the scenario's BACnet/IP devices (one loopback address each) until Ctrl-C."""
    site = _load(scenario)
    by_port, notes = bacnet_devices(site)
    _notes(notes)
    if not by_port:
        raise ConfigError(f"{site.path}: no BACnet devices to simulate")
    asyncio.run(_serve_bacnet(by_port))


async def _serve_bacnet(by_port: dict[int, Any]) -> None:
    from bms.sim.bacnet import BacnetSimulator

    started: list[BacnetSimulator] = []
    signals = _Signals()
    try:
        for port, devices in sorted(by_port.items()):
            sim = BacnetSimulator([(d.instance, d.address, d.profile) for d in devices], device_port=port)
            try:
                await sim.start()
            except BindError:  # an address another process holds: refused, named with its holder
                raise
            except Exception as err:  # bacpypes3 raises plain OSErrors and its own types
                raise ProtocolError(f"cannot serve BACnet on port {port}: {err}") from err
            started.append(sim)
            for d in devices:
                click.echo(f"bacnet {d.address}:{port} device {d.instance}: {d.device_id} ({d.profile.name})")
        await signals.wait()
    finally:
        for sim in started:
            await sim.stop()
        signals.close()


@cli.group("sim")
def sim() -> None:
    """Serve simulated BACnet and Modbus devices on loopback."""


sim.add_command(sim_modbus)
sim.add_command(sim_bacnet)
sim.add_command(sim_history)


@sim.command("fault")
@click.argument("device")
@click.argument("fault", type=click.Choice(["damper-stuck", "cooling-valve-leak", "mat-drift", "clear"]))
@data_option
def sim_fault(device: str, fault: str, data: Path | None) -> None:
    """Give a simulated air handler of the running site a fault (its FDD rule should raise it), or clear them."""
    from bms.cli import connect
    from bms.sim.messages import SimFaults

    found = connect(data).post(f"/api/sim/{device}/fault", SimFaults, {"fault": fault})
    click.echo(f"{found.device}: " + (", ".join(found.faults) or "no faults"))


@click.group(cls=BmsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="bms-sim")
def standalone() -> None:
    """bms-sim: simulated BACnet and Modbus devices on loopback (same as `bms sim`)."""


standalone.add_command(sim_modbus)
standalone.add_command(sim_bacnet)
