"""``bms daemon``: lock the data directory, assemble the platform, run until told.

SIGTERM and SIGINT stop the platform in reverse order, flush the stores and
exit 0 (1 when a component escalated a failure). Before anything starts,
every address the components will bind (the API, the BACnet bridges' own
addresses, the simulators') is checked: one that another process holds
(another daemon on another data directory, ``bms sim``) refuses the start
with one line naming it and its holder, exit 1, and the other process keeps
its devices (:mod:`bms.ports`). The click command is
registered in the ``bms.commands`` entry-point group, so the CLI in
``bms/`` finds it without importing the actor layer. While it runs, the
main thread hands the heap's free memory back to the system once a minute
(:class:`~bms.daemon.MemoryTrim`).

The daemon runs with a GIL switch interval of :data:`SWITCH_INTERVAL` (1 ms,
Python's default is 5 ms): an actor handing a batch to the next one would
otherwise wait up to 5 ms for a thread busy with other work to let go of
the interpreter, and every stage of a pipeline (bridge, point store, alarm
engine) paid it. Measured with ``bench/alarms.py``: the p99 from a bridge's
batch to the alarm it raises went from 7.8 ms to 4.0 ms.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import click

from actors.platform import Platform
from bms import __version__, logs
from bms.config import kind_of, load_scenario, load_settings, read_toml, scenario_path
from bms.config._schema import Settings
from bms.daemon import DataDirLock, MemoryTrim, resolve_data_dir
from bms.daemon._datadir import clear_daemon_info
from bms.errors import BindError
from bms.model import build_site
from bms.ports import ensure_all_free

SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits for it (see the module)."""


@click.command("daemon")
@click.option("--config", "-c", type=click.Path(path_type=Path, dir_okay=False),
              help="Settings file (default conf/bms.toml) or a scenario file.")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False), envvar="BMS_DATA",
              help="Data directory (env BMS_DATA; default from the settings).")
@click.option("--api-port", type=click.IntRange(0, 65535), default=None,
              help="API port; 0 picks a free one (recorded in the data directory).")
@click.option("--simulate/--no-simulate", default=None,
              help="Start the scenario's simulated devices (default: as the scenario says).")
def command(config: Path | None, data: Path | None, api_port: int | None, simulate: bool | None) -> None:
    """Run the site: bridges, stores, engines and the local API, until SIGTERM."""
    raise SystemExit(run(config, data, api_port, simulate))


def _component_options() -> None:
    """The options installed components add to ``bms daemon`` (``Component.daemon_options``)."""
    from bms.components import installed

    for comp in installed().components:
        if comp.daemon_options is not None:
            command.params.extend(comp.daemon_options())


_component_options()


def load_config(config: Path | None) -> tuple[Settings, Path, Path]:
    """--config may name a settings file or a scenario file."""
    if config is not None and kind_of(read_toml(config)) == "scenario":
        settings, spath = load_settings(None, isolate=True)
        return settings, spath, config.resolve()
    settings, spath = load_settings(config, isolate=True)
    return settings, spath, scenario_path(settings, spath)


def run(
    config: Path | None = None,
    data: Path | None = None,
    api_port: int | None = None,
    simulate: bool | None = None,
    ready: threading.Event | None = None,
) -> int:
    settings, _spath, scen_path = load_config(config)
    sys.setswitchinterval(SWITCH_INTERVAL)
    data_dir = resolve_data_dir(data, settings.daemon.data_dir)
    logs.configure(settings.log.level, settings.log.format, settings.log.file)
    log = logs.get_logger("daemon")
    lock = DataDirLock(data_dir).acquire()
    if lock.stale_pid:
        log.warning("took over a stale lock", stale_pid=lock.stale_pid, data_dir=str(data_dir))
    stop = threading.Event()
    exit_code = 0

    received: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # no logging here: the handler runs on the main thread, which may be inside a log write
        # holding the logger's lock (a SIGTERM right after "running" deadlocked the stop)
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    platform: Platform | None = None
    refused = False
    try:
        site = load_scenario(scen_path)
        build_site(site)  # a scenario whose model cannot be built is refused before anything starts
        platform = Platform(settings, site, data_dir, api_port=api_port, simulate=simulate)
        try:
            ensure_all_free(platform.endpoints())  # one owner per port: refused before anything starts
        except BindError:
            refused = True
            raise

        def escalate(name: str, err: BaseException) -> None:
            nonlocal exit_code
            exit_code = 1
            stop.set()

        platform.ctx.supervisor.on_escalate = escalate
        log.info("starting", version=__version__, pid=os.getpid(), data_dir=str(data_dir), scenario=str(scen_path))
        t0 = time.monotonic()
        platform.start()
        log.info("running", components=len(platform.started), start_seconds=round(time.monotonic() - t0, 3))
        if ready is not None:
            ready.set()
        trim = MemoryTrim()  # the heap's free pages back to the system: after start-up, then every minute
        while not stop.wait(0.5):
            trim.due(time.monotonic())
        if received:
            log.info("signal received, stopping", signal=received[0])
    except BaseException as err:  # a refused start (config, a critical store) or a crash: the exit code is 1
        exit_code = 1
        if not refused:  # an address in use is one line, like a data directory in use
            log.error("daemon cannot run", error=str(err) or type(err).__name__)
        raise
    finally:
        if platform is not None:
            leaked = platform.stop()
            if leaked:
                exit_code = exit_code or 1
        clear_daemon_info(data_dir)
        lock.release()
        for s, handler in previous.items():
            signal.signal(s, handler)
        if not refused:
            log.info("stopped", exit_code=exit_code)
    return exit_code
