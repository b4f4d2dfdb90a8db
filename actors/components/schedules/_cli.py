"""``bms schedules`` and ``bms schedule``: list, show a week, create, set, except, assign, override.

Every command goes through the daemon (``/api/schedules``); the shell
offers them too. Times are shown in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from rich.text import Text

from bms.cli import connect, console, data_option, json_option, print_json
from bms.cli._common import parse_value
from bms.errors import ConfigError
from bms.schedules import TEMPLATES
from bms.schedules._spec import DateRange, OnDate, ScheduleException, TimeValue
from bms.schedules.messages import ScheduleSummary, ScheduleView

_ENTRY = re.compile(r"^(\d{1,2}):(\d{2})=(.*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
VALUE_STYLE = {"occupied": "green", "unoccupied": "dim", "true": "green", "false": "dim"}
# the lead: pull_command and push_command (actors/components/schedules/_device_cli.py) join `schedule_group` here


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "—" if value is None else str(value)


def _styled(value: Any) -> Text:
    text = _shown(value)
    return Text(text, VALUE_STYLE.get(text, ""))


def _at(ts: float | None, zone: str, with_date: bool = True) -> str:
    if ts is None:
        return "—"
    when = dt.datetime.fromtimestamp(ts, ZoneInfo(zone))
    return when.strftime("%a %d %b %H:%M" if with_date else "%H:%M")


def entries(texts: Sequence[str], what: str = "entries") -> list[TimeValue]:
    """``07:00=occupied`` -> TimeValue; a bad one is one line naming it."""
    found: list[TimeValue] = []
    for text in texts:
        match = _ENTRY.match(text.strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ConfigError(f"{what}: {text!r} is not TIME=VALUE (07:00=occupied)")
        found.append(TimeValue(f"{int(match[1]):02d}:{match[2]}", parse_value(match[3])))
    return found


def summary_table(summaries: Sequence[ScheduleSummary]) -> Table:
    table = Table(caption=f"{len(summaries)} schedule(s)", caption_justify="left")
    for column in ("schedule", "value", "from", "next change", "points", "description"):
        table.add_column(column)
    for s in summaries:
        source = s.source + (f" until {_at(s.override_until, s.timezone, False)}" if s.override_until else "")
        if s.device_id:
            source += f" (device {s.device_id} {s.object_id})"
        nxt = f"{_at(s.next_at, s.timezone)} → {_shown(s.next_value)}" if s.next_at else "—"
        table.add_row(s.name, _styled(s.value), source, nxt, str(s.points), s.description)
    return table


def week_table(view: ScheduleView) -> Table:
    """The 7-day preview: each day's program, exceptions marked (★ and their name)."""
    table = Table(title=f"{view.summary.name} ({view.timezone})", caption="★ exception", caption_justify="left")
    for column in ("day", "program", "from"):
        table.add_column(column, no_wrap=column != "program")
    for day in view.week:
        parts = Text()
        if not day.entries or day.entries[0].at not in ("00:00", "00:00:00"):
            parts.append("00:00 ")
            parts.append_text(_styled(day.start_value))
        for tv in day.entries:
            if parts:
                parts.append("  ")
            parts.append(f"{tv.at[:5]} ")
            parts.append_text(_styled(tv.value))
        label = f"{day.weekday.capitalize()} {day.date}"
        source = Text(f"★ {day.source}", "bold yellow") if day.exception else Text(day.source, "dim")
        table.add_row(Text(label, "bold yellow") if day.exception else label, parts, source)
    return table


def zones_table(view: ScheduleView) -> Table:
    table = Table(title="optimal start", caption_justify="left")
    acting = any(z.acting for z in view.zones)
    table.caption = ("acted on: each zone's points get their occupied value from its start"
                     if acting else f"shown only: `bms schedule optimal-start {view.summary.name} on` acts on it")
    for column in ("zone", "occupied", "start", "lead", "zone °", "setpoint", "outdoor", "now"):
        table.add_column(column, no_wrap=True)
    for z in view.zones:
        lead = f"{z.lead_minutes:g} min" if z.lead_minutes is not None else z.problem or "—"
        state = Text("started", "bold green") if z.started else Text("waiting" if z.acting else "—", "dim")
        table.add_row(z.equip, _at(z.occupied_at, view.timezone), _at(z.start_at, view.timezone), lead,
                      _shown(z.zone_temp), _shown(z.setpoint), _shown(z.outdoor), state)
    return table


def show_view(view: ScheduleView) -> None:
    s = view.summary
    console.print(summary_table([s]))
    console.print(week_table(view))
    if view.override is not None:
        console.print(f"override: {_shown(view.override.value)} until {_at(view.override.until, view.timezone)}"
                      f" (by {view.override.user or '?'})", highlight=False)
    for a in view.assignments:
        what = " ".join([*a.points, *(f"tag:{t}" for t in a.tags), *([f"under:{a.under}"] if a.under else [])])
        values = ", ".join(f"{k}→{_shown(v)}" for k, v in a.values.items())
        console.print(f"assigned: {what} at priority {a.priority}" + (f" ({values})" if values else ""),
                      highlight=False)
    if view.zones:
        console.print(zones_table(view))
        for z in view.zones:
            console.print(f"{z.equip}: {z.rates}", highlight=False)
    for problem in view.problems:
        console.print(Text(f"problem: {problem}", "red"))


@click.group("schedules")
def schedules_group() -> None:
    """The site's schedules."""


@schedules_group.command("list")
@data_option
@json_option
def list_schedules(data: Path | None, as_json: bool) -> None:
    """Every schedule: its value now, where it comes from, the next change."""
    found = connect(data).get("/api/schedules", list[ScheduleSummary])
    if as_json:
        print_json(found)
    else:
        console.print(summary_table(found))


@click.group("schedule")
def schedule_group() -> None:
    """One schedule: show, create, set, except, assign, override."""


def _done(view: ScheduleView, as_json: bool, said: str) -> None:
    if as_json:
        print_json(view)
    else:
        console.print(said, highlight=False)


@schedule_group.command("show")
@click.argument("name")
@click.option("--week", metavar="YYYY-MM-DD", help="The first day of the 7-day preview (default today).")
@data_option
@json_option
def show(name: str, week: str | None, data: Path | None, as_json: bool) -> None:
    """A schedule's week (exceptions marked), assignments, override and each zone's optimal start."""
    if week is not None and not _DATE.match(week):
        raise ConfigError(f"--week: {week!r} is not a date (YYYY-MM-DD)")
    view = connect(data).get(f"/api/schedules/{name}", ScheduleView, {"week": week})
    if as_json:
        print_json(view)
    else:
        show_view(view)


@schedule_group.command("create")
@click.argument("name")
@click.option("--template", type=click.Choice(TEMPLATES), help="Start from these hours (occupied/unoccupied).")
@data_option
@json_option
def create(name: str, template: str | None, data: Path | None, as_json: bool) -> None:
    """A new schedule, empty or from a template."""
    view = connect(data).post("/api/schedules", ScheduleView, {"name": name, "template": template})
    _done(view, as_json, f"schedule {name} created" + (f" from the {template} template" if template else ""))


@schedule_group.command("set")
@click.argument("name")
@click.argument("days")
@click.argument("program", nargs=-1, required=True)
@data_option
@json_option
def set_program(name: str, days: str, program: tuple[str, ...], data: Path | None, as_json: bool) -> None:
    """Replace the program of DAYS (mon-fri, sat,sun): TIME=VALUE... (07:00=occupied 18:00=unoccupied)."""
    view = connect(data).post(f"/api/schedules/{name}/program", ScheduleView,
                              {"days": [days], "entries": entries(program)})
    _done(view, as_json, f"schedule {name}: {days} set")


@schedule_group.command("except")
@click.argument("name")
@click.argument("when")
@click.argument("program", nargs=-1, required=True)
@click.option("--name", "label", help="The exception's name (default the date).")
@click.option("--priority", type=click.IntRange(1, 16), default=16, show_default=True,
              help="Among exceptions covering a day, the highest (1) wins.")
@data_option
@json_option
def except_(name: str, when: str, program: tuple[str, ...], label: str | None, priority: int,
            data: Path | None, as_json: bool) -> None:
    """On WHEN (2026-12-25, or 2026-12-24..2026-12-31) run VALUE all day, or TIME=VALUE..."""
    first, _, last = when.partition("..")
    for day in (first, last) if last else (first,):
        if not _DATE.match(day):
            raise ConfigError(f"{when!r} is not a date or a range (2026-12-25, 2026-12-24..2026-12-31)")
    rule = DateRange(start=first, end=last) if last else OnDate(date=first)
    if len(program) == 1 and "=" not in program[0]:
        timed = [TimeValue("00:00", parse_value(program[0]))]
    else:
        timed = entries(program, "program")
    exception = ScheduleException(name=label or when, when=rule, program=timed, priority=priority)
    view = connect(data).post(f"/api/schedules/{name}/exceptions", ScheduleView, {"exception": exception})
    _done(view, as_json, f"schedule {name}: exception {exception.name} added")


@schedule_group.command("assign")
@click.argument("name")
@click.argument("points", nargs=-1)
@click.option("--tag", "tags", multiple=True, help="Every point with this tag (repeat: all of them).")
@click.option("--under", metavar="NODE", help="Every writable point under this node.")
@click.option("--priority", type=click.IntRange(1, 16), default=16, show_default=True)
@click.option("--value", "values", multiple=True, metavar="SCHEDULED=POINT",
              help="What the point is written for a schedule value (occupied=21).")
@data_option
@json_option
def assign(name: str, points: tuple[str, ...], tags: tuple[str, ...], under: str | None, priority: int,
           values: tuple[str, ...], data: Path | None, as_json: bool) -> None:
    """Let the schedule command POINTS (or --tag/--under) at --priority (16: below every operator)."""
    if not (points or tags or under):
        raise ConfigError("name the points: POINT..., --tag or --under")
    mapping: dict[str, Any] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise ConfigError(f"--value: {text!r} is not SCHEDULED=POINT (occupied=21)")
        mapping[key] = parse_value(value)
    view = connect(data).post(f"/api/schedules/{name}/assign", ScheduleView, {
        "points": list(points), "tags": list(tags), "under": under, "priority": priority, "values": mapping})
    _done(view, as_json, f"schedule {name} commands {len(view.points)} point(s) "
                         f"({', '.join(view.points[:5])}{'...' if len(view.points) > 5 else ''})")


@schedule_group.command("unassign")
@click.argument("name")
@click.argument("point")
@data_option
@json_option
def unassign(name: str, point: str, data: Path | None, as_json: bool) -> None:
    """Stop commanding POINT (its priority level is relinquished)."""
    view = connect(data).post(f"/api/schedules/{name}/unassign", ScheduleView, {"point": point})
    _done(view, as_json, f"schedule {name} no longer commands {point}")


@schedule_group.command("override")
@click.argument("name")
@click.argument("value", required=False)
@click.option("--until", help="When it ends: 22:00 (the next one, site time), 2h, 2026-12-24 18:00.")
@click.option("--cancel", is_flag=True, help="End the running override now.")
@data_option
@json_option
def override(name: str, value: str | None, until: str | None, cancel: bool, data: Path | None,
             as_json: bool) -> None:
    """VALUE until a time ("occupied until 22:00 tonight"), then the program again by itself."""
    client = connect(data)
    if cancel:
        view = client.post(f"/api/schedules/{name}/override/cancel", ScheduleView)
        _done(view, as_json, f"schedule {name}: override ended, {_shown(view.summary.value)} now")
        return
    if value is None or until is None:
        raise ConfigError("give VALUE and --until (or --cancel)")
    view = client.post(f"/api/schedules/{name}/override", ScheduleView, {"value": parse_value(value), "until": until})
    assert view.override is not None
    _done(view, as_json, f"schedule {name}: {_shown(view.override.value)} until "
                         f"{_at(view.override.until, view.timezone)}")


@schedule_group.command("optimal-start")
@click.argument("name")
@click.argument("state", type=click.Choice(["on", "off"]))
@data_option
@json_option
def optimal_start(name: str, state: str, data: Path | None, as_json: bool) -> None:
    """Start each zone's conditioning early, from its learned warm-up and cool-down rates (on), or only at the
    occupied time (off)."""
    view = connect(data).post(f"/api/schedules/{name}/optimal-start", ScheduleView, {"enabled": state == "on"})
    said = f"schedule {name}: optimal start {state}"
    starts = [f"{z.equip} at {_at(z.start_at, view.timezone)}" for z in view.zones if z.start_at is not None]
    if state == "on" and starts:
        said += " (next: " + ", ".join(starts) + ")"
    _done(view, as_json, said)


@schedule_group.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@data_option
def delete(name: str, yes: bool, data: Path | None) -> None:
    """Remove a schedule; the priority levels it holds are relinquished."""
    if not yes:
        import sys

        if not sys.stdin.isatty():
            raise ConfigError(f"deleting schedule {name}: add --yes to do it from a script")
        click.confirm(f"delete schedule {name}?", abort=True)
    connect(data).post(f"/api/schedules/{name}/delete", bool)
    console.print(f"schedule {name} deleted")


__all__ = ["entries", "schedule_group", "schedules_group", "show_view", "week_table"]
