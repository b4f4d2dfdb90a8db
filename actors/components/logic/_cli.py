"""``bms logic``: the logic programs of the running site -- list, show, enable, disable, trace."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click
import msgspec
from rich.table import Table
from rich.text import Text

from actors.components.logic._bundles_cli import bundle_group, deploy_command, rollback_command, versions_command
from actors.components.logic._replay import replay_command
from bms.cli import connect, console, data_option, json_option, print_json
from bms.logic import Trace
from bms.logic.messages import EngineStatus, LogicEvent, ProgramView, decode_logic_event

STATE_STYLE = {"running": "green", "disabled": "yellow", "faulted": "bold red"}


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _trigger(v: ProgramView) -> str:
    parts = [f"every {v.interval:g} s"] if v.interval > 0 else []
    if v.on_change:
        parts.append("on change of " + ", ".join(v.on_change))
    return "; ".join(parts) or "never"


def programs_table(views: Sequence[ProgramView]) -> Table:
    table = Table(caption=f"{len(views)} program(s)", caption_justify="left")
    for column in ("program", "state", "trigger", "last run", "runs", "errors"):
        table.add_column(column, no_wrap=column != "trigger")
    for v in views:
        table.add_row(v.name, Text(v.state, STATE_STYLE.get(v.state, "")), _trigger(v), _when(v.last_run),
                      str(v.runs), Text(str(v.errors), "red" if v.errors else ""))
    return table


def _show(view: ProgramView, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    console.print(f"[bold]{view.name}[/bold]  {view.description}")
    state = Text(view.state + (f" ({view.reason})" if view.reason else ""), STATE_STYLE.get(view.state, ""))
    rows: list[tuple[str, str | Text]] = [("state", state),
            ("trigger", _trigger(view)), ("priority", str(view.priority)), ("reads", ", ".join(view.reads)),
            ("writes", ", ".join(view.writes)), ("blocks", ", ".join(view.block_types) or "hand-written Lua"),
            ("source", view.source), ("last run", _when(view.last_run)), ("runs", str(view.runs)),
            ("errors", str(view.errors)), ("last error", view.last_error)]
    table = Table.grid(padding=(0, 2))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


@click.group("logic")
def logic_group() -> None:
    """The logic programs: their state, their runs, enable and disable."""


@logic_group.command("list")
@data_option
@json_option
def list_programs(data: Path | None, as_json: bool) -> None:
    """Programs with their state, trigger, last run and error count."""
    views = connect(data).get("/api/logic", list[ProgramView])
    if as_json:
        print_json(views)
    else:
        console.print(programs_table(views))


@logic_group.command("show")
@click.argument("name")
@data_option
@json_option
def show(name: str, data: Path | None, as_json: bool) -> None:
    """One program: state, trigger, points read and written, runs and errors."""
    _show(connect(data).get(f"/api/logic/{name}", ProgramView), as_json)


@logic_group.command("enable")
@click.argument("name")
@data_option
@json_option
def enable(name: str, data: Path | None, as_json: bool) -> None:
    """Run a disabled or faulted program again."""
    _show(connect(data).post(f"/api/logic/{name}/enable", ProgramView), as_json)


@logic_group.command("disable")
@click.argument("name")
@data_option
@json_option
def disable(name: str, data: Path | None, as_json: bool) -> None:
    """Stop running a program; its outputs hold their last value."""
    _show(connect(data).post(f"/api/logic/{name}/disable", ProgramView), as_json)


def _value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def trace_table(t: Trace) -> Table:
    """One run: inputs, every block's output, the writes; the caption says when, how long, any error."""
    caption = f"{_when(t.at)}  {t.duration * 1000:.2f} ms" + (f"  error: {t.error}" if t.error else "")
    table = Table(title=caption, title_justify="left", box=None, padding=(0, 2))
    table.add_column("")
    table.add_column("")
    table.add_column("value")
    for point, value in t.inputs.items():
        table.add_row("in", point, _value(value))
    for slot, value in t.outputs.items():
        table.add_row("block", slot, _value(value))
    for w in t.writes:
        table.add_row("write", f"{w.point} @{w.priority}", _value(w.value) if w.value is not None else "relinquish")
    return table


@logic_group.command("trace")
@click.argument("name")
@click.option("--last", "limit", type=click.IntRange(1, 10_000), default=5, show_default=True,
              help="How many of the last runs.")
@data_option
@json_option
def trace(name: str, limit: int, data: Path | None, as_json: bool) -> None:
    """The program's last runs: inputs, each block's output, writes, duration, error."""
    traces = connect(data).get(f"/api/logic/{name}/trace", list[Trace], {"limit": limit})
    if as_json:
        print_json(traces)
        return
    if not traces:
        console.print(f"{name}: no runs yet")
    for t in traces:
        console.print(trace_table(t))


@logic_group.command("watch")
@click.argument("name")
@click.option("--every", type=click.FloatRange(min=0.2), default=1.0, show_default=True,
              help="Seconds between looks at the program's runs.")
@click.option("--runs", type=click.IntRange(min=1), default=None, help="Stop after this many runs (default: Ctrl-C).")
@data_option
def watch(name: str, every: float, runs: int | None, data: Path | None) -> None:
    """Every block's live value as the program runs (the terminal's wiresheet view), until Ctrl-C."""
    client = connect(data)
    client.get(f"/api/logic/{name}", ProgramView)  # an unknown program: one line now, not a silent wait
    seen: float | None = None
    shown = 0
    try:
        while runs is None or shown < runs:
            traces = client.get(f"/api/logic/{name}/trace", list[Trace], {"limit": 1})
            if traces and traces[-1].at != seen:
                seen = traces[-1].at
                console.print(trace_table(traces[-1]))
                shown += 1
                continue
            time.sleep(every)
    except KeyboardInterrupt:
        pass


def _status(view: EngineStatus, as_json: bool) -> None:
    if as_json:
        print_json(view)
        return
    scheduler = Text(view.scheduler + (f" (by {view.stopped_by})" if view.stopped_by else ""),
                     "green" if view.scheduler == "running" else "yellow")
    grid = Table.grid(padding=(0, 2))
    grid.add_row("scheduler", scheduler)
    grid.add_row("running", f"bundle {view.bundle}" if view.bundle else f"the programs of {view.source}")
    grid.add_row("health", Text(view.health + (f": {view.reason}" if view.reason else ""),
                                "green" if view.health == "Healthy" else "yellow"))
    console.print(grid)
    if view.programs:
        console.print(programs_table(view.programs))


@logic_group.command("status")
@data_option
@json_option
def status(data: Path | None, as_json: bool) -> None:
    """The engine: scheduler running or stopped, the active bundle, health, programs."""
    _status(connect(data).get("/api/logic/status", EngineStatus), as_json)


@logic_group.command("start")
@data_option
@json_option
def start(data: Path | None, as_json: bool) -> None:
    """Run the programs again after `bms logic stop`."""
    _status(connect(data).post("/api/logic/start", EngineStatus), as_json)


@logic_group.command("stop")
@data_option
@json_option
def stop(data: Path | None, as_json: bool) -> None:
    """Stop running every program (until `bms logic start`, across restarts); outputs hold."""
    _status(connect(data).post("/api/logic/stop", EngineStatus), as_json)


@logic_group.command("reload")
@data_option
@json_option
def reload(data: Path | None, as_json: bool) -> None:
    """Read the program directory (or the active bundle) again and run what it holds."""
    _status(connect(data).post("/api/logic/reload", EngineStatus), as_json)


def event_line(e: LogicEvent) -> str:
    when = _when(e.at)
    if e.kind == "run":
        return f"{when}  run    {e.program}  {e.duration * 1000:.2f} ms"
    if e.kind == "error":
        return f"{when}  error  {e.program}  {e.fault}: {e.error}"
    if e.kind == "write":
        value = "relinquish" if e.value is None else _value(e.value)
        return f"{when}  write  {e.program}  {e.point} @{e.priority} = {value}"
    return f"{when}  {e.kind}  {e.program}  {e.detail}".replace("    ", "  ")


@logic_group.command("events")
@click.option("--program", "programs", multiple=True, help="Only this program's events (repeatable).")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after this many events (default: Ctrl-C).")
@data_option
@json_option
def events(programs: tuple[str, ...], count: int | None, data: Path | None, as_json: bool) -> None:
    """Follow the engine's live events: runs, failed runs, writes, faults, start/stop/reload."""
    shown = 0
    try:
        with connect(data).events("/api/logic/stream", decoder=decode_logic_event) as stream:
            for event in stream:
                if programs and event.program not in programs:
                    continue
                if as_json:  # one JSON document a line (JSON Lines), as it comes
                    click.echo(msgspec.json.encode(event).decode())
                else:
                    console.print(event_line(event), highlight=False)
                shown += 1
                if count is not None and shown >= count:
                    break
    except KeyboardInterrupt:
        pass


logic_group.add_command(replay_command)
for _command in (bundle_group, deploy_command, rollback_command, versions_command):
    logic_group.add_command(_command)
