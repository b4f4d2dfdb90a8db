"""``bms logic replay NAME --since 7d``: a program against recorded history, without writing anything.

Offline, as an engineer tests a change before deploying it: the program (a name in the site's
``[logic] programs``, or a program file) runs on a manual clock over history.db (read only, through
:class:`bms.history.HistoryReader`); it prints what it would have written and when (each point's
value when it changes, as the engine writes), the run errors, and a chart of its main output.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from bms.cli import console, data_option, json_option, print_json
from bms.cli._common import TIME, TimeSpec, data_dir
from bms.errors import ConfigError
from bms.logic import LogicSection, ReplayResult, ReplayWrite, changes, compile_program, load_program, replay
from bms.logic._running import program_directory

LOOKBACK = 86_400.0  # history read before the start: the inputs' values at the first run


def program_file(name: str) -> Path:
    """A program file: ``name`` itself when it is a file, else ``NAME.toml`` in ``[logic] programs``."""
    given = Path(name)
    if given.suffix == ".toml" and given.is_file():
        return given
    from bms.config import load_settings, scenario_path

    settings, path = load_settings(isolate=True)
    section = settings.sections.get("logic") or LogicSection()
    scenario = scenario_path(settings, path)
    directory = program_directory(section, scenario)
    for candidate in sorted(directory.glob("*.toml")) if directory.is_dir() else ():
        if candidate.stem == name:
            return candidate
        try:
            if load_program(candidate).name == name:
                return candidate
        except ConfigError:
            continue
    raise ConfigError(f"no logic program {name!r} in {directory} (give a program file to replay one elsewhere)")


def run_replay(file: Path, data: Path, since: float, until: float, interval: float | None) -> ReplayResult:
    from bms.history import HistoryReader

    compiled = compile_program(load_program(file))
    path = data / "history.db"
    if not path.is_file():
        raise ConfigError(f"{path}: no history recorded here (is --data the daemon's data directory?)")
    reader = HistoryReader(path)
    try:
        series = {p: [(s.ts, s.value) for s in reader.raw(p, since - LOOKBACK, until)] for p in compiled.reads}
    finally:
        reader.close()
    return replay(compiled, series, since, until, interval=interval)


@click.command("replay")
@click.argument("name")
@click.option("--since", type=TIME, default="-7d", show_default=True, help="From this time (7d, yesterday, 13:00...).")
@click.option("--until", type=TimeSpec(), default=None, help="Up to this time (default: now).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between runs (default: the program's interval).")
@data_option
@json_option
def replay_command(name: str, since: float, until: float | None, interval: float | None, data: Path | None,
                   as_json: bool) -> None:
    """Run a program over recorded history (no device is written): what it would have written, and when.

    NAME is a program of the site's [logic] programs, or a program file (test a change before deploying it)."""
    result = run_replay(program_file(name), data_dir(data), since, until if until is not None else time.time(),
                        interval)
    writes = changes(result)
    if as_json:
        print_json({"program": result.program, "start": result.start, "end": result.end, "runs": result.runs,
                    "writes": writes, "errors": list(result.errors)})
        return
    from bms.cli._render import format_time, format_value

    table = Table(caption=f"{result.program}: {result.runs} run(s), {len(writes)} write(s), "
                          f"{len(result.errors)} error(s)", caption_justify="left")
    for column in ("time", "point", "value", "priority"):
        table.add_column(column)
    for w in writes:
        table.add_row(format_time(w.at), w.point, "relinquish" if w.value is None else format_value(w.value),
                      str(w.priority))
    console.print(table)
    for at, error in result.errors[:10]:
        console.print(f"[red]{format_time(at)} error: {escape(error)}[/red]")
    chart = _chart(result, writes)
    if chart:
        console.print(chart, markup=False, highlight=False)


def _chart(result: ReplayResult, writes: list[ReplayWrite]) -> str | None:
    from bms.api import HistorySample, HistorySeries
    from bms.cli._render import history_chart

    numeric = [w for w in writes if isinstance(w.value, int | float) and not isinstance(w.value, bool)]
    if not numeric:
        return None
    main = numeric[0].point
    samples = tuple(HistorySample(ts=w.at, value=w.value) for w in numeric if w.point == main)
    series = HistorySeries(point_id=main, start=result.start, end=result.end, rollup="replay", samples=samples)
    return history_chart(series, width=min(shutil.get_terminal_size().columns, 120))
