"""``bms fdd``: the rule library, the bindings, the faults of the running site, and the run over history."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from bms.cli import connect, console, data_option, json_option, print_json
from bms.cli._common import DURATION, TIME, TimeSpec, data_dir
from bms.fdd.messages import EquipBinding, FaultView, RuleView

SEVERITY_STYLE = {"low": "", "medium": "yellow", "high": "red", "critical": "bold red"}


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


@click.group("fdd")
def fdd_group() -> None:
    """Fault detection: the G36 AHU rules and generic rules, live faults, and a run over history."""


def _running(data: Path | None) -> bool:
    from bms.cli._common import daemon_running

    return daemon_running(data_dir(data))


@fdd_group.command("rules")
@data_option
@json_option
def rules(data: Path | None, as_json: bool) -> None:
    """The rule library: what each rule checks, the roles it needs and the operating states it applies in.

    From the running daemon; without one, from the site's configuration ([fdd] rules)."""
    if _running(data):
        views = connect(data).get("/api/fdd/rules", list[RuleView])
    else:
        from actors.components.fdd._engine import rule_views
        from actors.components.fdd._offline import offline_site

        views = rule_views(offline_site(None, None, None).library)
    if as_json:
        print_json(views)
        return
    table = Table(caption=f"{len(views)} rule(s)", caption_justify="left")
    for column in ("rule", "what", "states", "needs", "severity"):
        table.add_column(column)
    for v in views:
        table.add_row(Text(v.id, "" if v.enabled else "dim"), v.title + ("" if v.enabled else " (disabled)"),
                      " ".join(v.states), ", ".join(v.roles), Text(v.severity, SEVERITY_STYLE.get(v.severity, "")))
    console.print(table)


def bindings_table(found: Sequence[EquipBinding]) -> Table:
    table = Table(caption=f"{len(found)} air handler(s)", caption_justify="left", show_lines=True)
    for column in ("equipment", "bound roles", "missing", "rules that cannot run"):
        table.add_column(column)
    for b in found:
        roles = "\n".join(f"{role} = {point}" for role, point in b.roles.items())
        blocked = "\n".join(f"{r.rule}: {r.reason}" for r in b.blocked)
        notes = "".join(f"\n[yellow]{n}[/yellow]" for n in b.notes)
        table.add_row(f"{b.equip}\n{b.name}", roles + notes, Text(", ".join(b.missing), "red" if b.missing else ""),
                      blocked)
    return table


@fdd_group.command("bindings")
@click.option("--under", help="Only equipment under this node.")
@data_option
@json_option
def bindings(under: str | None, data: Path | None, as_json: bool) -> None:
    """Each air handler: roles bound (by tags or by hand), roles missing, the rules they keep from running.

    From the running daemon; without one, from the site's configuration (its scenario and [fdd])."""
    if _running(data):
        found = connect(data).get("/api/fdd/bindings", list[EquipBinding], {"under": under} if under else None)
    else:
        from actors.components.fdd._offline import offline_site

        found = offline_site(None, None, under).bindings
    if as_json:
        print_json(found)
    else:
        console.print(bindings_table(found))


def faults_table(faults: Sequence[FaultView]) -> Table:
    table = Table(caption=f"{len(faults)} fault(s)", caption_justify="left")
    for column in ("id", "equipment", "rule", "severity", "raised", "cleared", "acknowledged", "explanation"):
        table.add_column(column, no_wrap=column not in ("explanation",))
    for f in faults:
        table.add_row(str(f.id), f.equip, f.rule, Text(f.severity, SEVERITY_STYLE.get(f.severity, "")),
                      _when(f.raised_at), _when(f.cleared_at) if not f.active else Text("active", "red"),
                      f"{f.acked_by} {_when(f.acked_at)}" if f.acked_by else "", f.explanation)
    return table


@fdd_group.command("faults")
@click.option("--active", is_flag=True, help="Only faults not yet cleared.")
@click.option("--under", help="Only equipment under this node.")
@data_option
@json_option
def faults(active: bool, under: str | None, data: Path | None, as_json: bool) -> None:
    """Faults raised, newest first, with their explanation."""
    params: dict[str, str] = {"active": "true"} if active else {}
    if under:
        params["under"] = under
    found = connect(data).get("/api/fdd/faults", list[FaultView], params or None)
    if as_json:
        print_json(found)
    else:
        console.print(faults_table(found))


@click.command("watch-faults")
@click.option("--under", help="Only equipment under this node.")
@click.option("--every", type=click.FloatRange(min=0.5), default=2.0, show_default=True,
              help="Seconds between looks.")
def watch_faults_word(under: str | None, every: float) -> None:
    """The active faults, live (a shell word: `watch faults`), until Ctrl-C."""
    from rich.live import Live

    client = connect(None)
    params = {"active": "true", **({"under": under} if under else {})}
    try:
        with Live(faults_table(client.get("/api/fdd/faults", list[FaultView], params)), console=console,
                  refresh_per_second=2, transient=False) as live:
            while True:
                time.sleep(every)
                live.update(faults_table(client.get("/api/fdd/faults", list[FaultView], params)))
    except KeyboardInterrupt:
        pass
    console.print("stopped watching faults", highlight=False)


@fdd_group.command("ack")
@click.argument("fault_ids", nargs=-1, required=True, type=click.IntRange(min=1))
@data_option
@json_option
def ack(fault_ids: tuple[int, ...], data: Path | None, as_json: bool) -> None:
    """Acknowledge faults by id (recorded with your name, and in the audit log)."""
    client = connect(data)
    done = [client.post(f"/api/fdd/faults/{fid}/ack", FaultView) for fid in fault_ids]
    if as_json:
        print_json(done)
        return
    for f in done:
        console.print(f"fault {f.id} ({f.equip} {f.rule}) acknowledged by {f.acked_by}")


@fdd_group.command("run")
@click.option("--since", type=TIME, default="-30d", show_default=True, help="From this time (30d, 2026-11-01...).")
@click.option("--until", type=TimeSpec(), default=None, help="Up to this time (default: now).")
@click.option("--under", help="Only equipment under this node.")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a self-contained HTML report with charts of the inputs around each fault.")
@click.option("--scenario", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The site's scenario file (default: the one conf/bms.toml names).")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="The rule library's directory (default: [fdd] rules).")
@click.option("--sample", type=DURATION, default=None,
              help="Seconds between samples instead of the library's (15m or more reads the rollups: a year fast).")
@click.option("--worst", type=click.IntRange(1, 100), default=5, show_default=True, help="Worst periods shown.")
@data_option
@json_option
def run(since: float, until: float | None, under: str | None, html_file: Path | None, scenario: Path | None,
        rules_dir: Path | None, sample: float | None, worst: int, data: Path | None, as_json: bool) -> None:
    """Run the rules over recorded history (history.db, read only): fault hours per rule and equipment,
    the worst periods. Retro-commissioning in one command."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from actors.components.fdd._offline import offline_site
    from bms.errors import ConfigError
    from bms.fdd._history import reader_source, run_history
    from bms.history import HistoryReader

    end = until if until is not None else time.time()
    if end <= since:
        raise ConfigError("--until must be after --since")
    site = offline_site(scenario, rules_dir, under)
    if sample is not None:
        if sample <= 0:
            raise ConfigError("--sample must be more than 0 s")
        given = site.library.params
        site.library = replace(site.library, params=replace(given, sample=sample,
                                                             smoothing=max(given.smoothing, sample),
                                                             window=max(given.window, sample)))
    path = data_dir(data) / "history.db"
    if not path.is_file():
        raise ConfigError(f"{path}: no history recorded here (is --data the daemon's data directory?)")
    reader = HistoryReader(path)
    try:
        steps = len(site.bindings) + len(site.generic)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=as_json) as progress:
            task = progress.add_task("reading history", total=steps)

            def advance(name: str) -> None:
                progress.update(task, advance=1, description=f"evaluated {name}")

            result = run_history(reader_source(reader), site.bindings, site.library, since, end, site.generic,
                                 advance, site.timezone)
    finally:
        reader.close()
    if html_file is not None:
        from bms.fdd._html import render_html

        html_file.write_text(render_html(result, f"{site.name}: fault detection"), encoding="utf-8")
    if as_json:
        print_json({"start": result.start, "end": result.end, "sample": result.sample, "tier": result.tier,
                    "skipped": result.skipped,
                    "outcomes": [{"equip": o.equip, "rule": o.rule, "title": o.title, "hours": round(o.hours, 3),
                                  "periods": [{"start": p.start, "end": p.end, "explanation": p.explanation}
                                              for p in o.periods]} for o in result.outcomes]})
        return
    table = Table(caption=f"{_when(result.start)} to {_when(result.end)}, a sample every {result.sample:g} s "
                          f"({result.tier} history)", caption_justify="left")
    for column in ("equipment", "rule", "what", "fault hours", "periods"):
        table.add_column(column, justify="right" if column in ("fault hours", "periods") else "left")
    faulted = result.faulted()
    for o in faulted:
        table.add_row(o.equip, o.rule, o.title, f"{o.hours:.1f}", str(len(o.periods)))
    console.print(table if faulted else "no fault in this period")
    periods = sorted(((o, p) for o in result.outcomes for p in o.periods), key=lambda op: -op[1].hours)[:worst]
    if periods:
        console.print("[bold]worst periods[/bold]")
    for o, p in periods:
        console.print(f"{o.equip} {o.rule} {_when(p.start)} .. {_when(p.end)} ({p.hours:.1f} h): {p.explanation}",
                      markup=False, highlight=False)
    for note in result.skipped:
        console.print(f"[yellow]{note}[/yellow]")
    if html_file is not None:
        console.print(f"report written to {html_file}")
