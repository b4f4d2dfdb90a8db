"""``bms alarms`` and ``bms alarm``: the operator's alarm commands (the shell offers them too, and ``ack``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import msgspec
from rich.table import Table
from rich.text import Text

from bms.alarms import (
    SEVERITIES,
    AlarmDefinition,
    AlarmEvent,
    AlarmView,
    DeviceDownAlarm,
    HighLimit,
    LowLimit,
    StaleValue,
    StateAlarm,
    decode_event,
)
from bms.cli import connect, console, data_option, json_option, print_json
from bms.cli._common import DURATION, POINT_ID, TIME, TimeSpec, parse_value
from bms.errors import ConfigError

STATE_STYLE = {"unacknowledged": "bold red", "returned-unacknowledged": "yellow", "acknowledged": "red",
               "shelved": "magenta", "suppressed": "dim", "out-of-service": "dim", "normal": "green"}
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
severity_option = click.option("--severity", type=click.Choice(SEVERITIES), help="Only alarms of this severity.")
under_option = click.option("--under", metavar="NODE", help="Only alarms of points under this node (equipment, space).")


def _when(ts: float | None) -> str:
    """Today's times as 13:05:09, older ones with their date."""
    if ts is None:
        return ""
    at = datetime.fromtimestamp(ts)
    return at.strftime("%H:%M:%S" if at.date() == datetime.now().date() else "%Y-%m-%d %H:%M")


def alarms_table(views: Sequence[AlarmView]) -> Table:
    table = Table(caption=f"{len(views)} alarm(s)", caption_justify="left")
    table.add_column("alarm", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("message", ratio=1)
    table.add_column("raised", no_wrap=True)
    table.add_column("by")
    for v in views:
        who = v.acked_by or v.shelved_by
        table.add_row(v.alarm_id, Text(v.severity, SEVERITY_STYLE.get(v.severity, "")),
                      Text(v.state + (" (chattering)" if v.chattering else ""), STATE_STYLE.get(v.state, "")),
                      v.text, _when(v.raised_at), who)
    return table


def show_alarms(views: Sequence[AlarmView], as_json: bool) -> None:
    if as_json:
        print_json(list(views))
    else:
        console.print(alarms_table(views))


@click.group("alarms")
def alarms_group() -> None:
    """The site's alarms: what is active, and what happened."""


@alarms_group.command("list")
@click.option("--active", is_flag=True, help="Only alarms that are not normal.")
@severity_option
@under_option
@data_option
@json_option
def list_alarms(active: bool, severity: str | None, under: str | None, data: Path | None, as_json: bool) -> None:
    """Alarms with their state, severity and message."""
    views = connect(data).get("/api/alarms", list[AlarmView], {"active": active, "severity": severity, "under": under})
    show_alarms(views, as_json)


@alarms_group.command("history")
@click.option("--since", type=TIME, default="-7d", show_default=True, help="From this time (7d, yesterday, 13:00...).")
@click.option("--until", type=TimeSpec(), default=None, help="Up to this time.")
@click.option("--alarm", "alarm_id", metavar="ID", help="Only this alarm.")
@data_option
@json_option
def history(since: float, until: float | None, alarm_id: str | None, data: Path | None, as_json: bool) -> None:
    """What happened to alarms: raised, cleared, acknowledged, shelved, with who and when."""
    events = connect(data).get("/api/alarms/history", list[AlarmEvent],
                               {"since": str(since), "until": None if until is None else str(until), "alarm": alarm_id})
    if as_json:
        print_json(events)
        return
    table = Table(caption=f"{len(events)} event(s)", caption_justify="left")
    for column in ("time", "alarm", "event", "state", "user", "message"):
        table.add_column(column)
    for e in events:
        table.add_row(_when(e.ts), e.alarm_id, e.event, Text(e.state, STATE_STYLE.get(e.state, "")), e.user, e.text)
    console.print(table)


@alarms_group.command("watch")
@severity_option
@under_option
@data_option
def watch(severity: str | None, under: str | None, data: Path | None) -> None:
    """The active alarms, live: redrawn at each raise, clear, ack or shelve, until Ctrl-C."""
    follow(connect(data), severity, under)


@click.command("watch-alarms")
@severity_option
@under_option
def watch_word(severity: str | None, under: str | None) -> None:
    """The active alarms, live (a shell word: `watch alarms`)."""
    follow(connect(None), severity, under)


def follow(client: Any, severity: str | None, under: str | None) -> None:
    from rich.live import Live

    query = {"active": True, "severity": severity, "under": under}
    try:
        with client.events("/api/alarms/stream", decoder=decode_event) as events:
            views = client.get("/api/alarms", list[AlarmView], query)
            with Live(alarms_table(views), console=console, refresh_per_second=4, transient=False) as live:
                for event in events:
                    views = client.get("/api/alarms", list[AlarmView], query)
                    table = alarms_table(views)
                    table.title = f"last: {type(event).__name__} {event.alarm_id}"
                    live.update(table)
    except KeyboardInterrupt:
        pass
    console.print("stopped watching alarms", highlight=False)


def unacknowledged(client: Any) -> str:
    """The shell's toolbar part: how many alarms wait for an acknowledgement, how many are active."""
    views = client.get("/api/alarms", list[AlarmView], {"active": True})
    waiting = sum(1 for v in views if v.state in ("unacknowledged", "returned-unacknowledged"))
    active = sum(1 for v in views if v.active)
    return f"alarms: {waiting} unacknowledged, {active} active"


@click.group("alarm")
def alarm_group() -> None:
    """One alarm: show, acknowledge, shelve, define."""


@alarm_group.command("show")
@click.argument("alarm_id")
@data_option
@json_option
def show(alarm_id: str, data: Path | None, as_json: bool) -> None:
    """An alarm's state, who acknowledged or shelved it, and when."""
    view = connect(data).get(f"/api/alarms/{alarm_id}", AlarmView)
    if as_json:
        print_json(view)
        return
    table = Table(show_header=False, box=None)
    for key, value in msgspec.structs.asdict(view).items():
        if value in (None, "", False) and key not in ("active", "acked"):
            continue
        shown = _when(value) if key.endswith(("_at", "_until")) and isinstance(value, float) else str(value)
        table.add_row(key, Text(shown, STATE_STYLE.get(shown, "")) if key == "state" else shown)
    console.print(table)


def _ack(ids: Sequence[str], all_matching: bool, under: str | None, severity: str | None, data: Path | None,
         as_json: bool) -> None:
    if not ids and not all_matching:
        raise ConfigError("name the alarms to acknowledge, or give --all")
    if ids and all_matching:
        raise ConfigError("give alarm ids or --all, not both")
    views = connect(data).post("/api/alarms/ack", list[AlarmView], {
        "alarm_ids": list(ids), "all": all_matching, "under": under, "severity": severity})
    if as_json:
        print_json(views)
    elif not views:
        console.print("no alarm waits for an acknowledgement")
    else:
        console.print(f"acknowledged {len(views)} alarm(s): {', '.join(v.alarm_id for v in views)}")


@alarm_group.command("ack")
@click.argument("alarm_ids", nargs=-1)
@click.option("--all", "all_matching", is_flag=True, help="Every unacknowledged alarm (with --under, --severity).")
@under_option
@severity_option
@data_option
@json_option
def ack(alarm_ids: tuple[str, ...], all_matching: bool, under: str | None, severity: str | None,
        data: Path | None, as_json: bool) -> None:
    """Acknowledge alarms by id, or --all of them (under a node, of a severity)."""
    _ack(alarm_ids, all_matching, under, severity, data, as_json)


@click.command("ack")
@click.argument("alarm_ids", nargs=-1)
@click.option("--all", "all_matching", is_flag=True, help="Every unacknowledged alarm.")
@under_option
def ack_word(alarm_ids: tuple[str, ...], all_matching: bool, under: str | None) -> None:
    """Acknowledge alarms (a shell word: `ack ahu1/sat:high`, `ack --all`)."""
    _ack(alarm_ids, all_matching, under, None, None, False)


@alarm_group.command("shelve")
@click.argument("alarm_id")
@click.option("--for", "duration", type=DURATION, help="How long (2h, 30m, 1d).")
@click.option("--until", type=TIME, help="Until this time.")
@click.option("--reason", required=True, help="Why (kept with the shelve).")
@data_option
@json_option
def shelve(alarm_id: str, duration: float | None, until: float | None, reason: str, data: Path | None,
           as_json: bool) -> None:
    """Set an alarm aside for a while: it does not notify, and comes back by itself."""
    if (duration is None) == (until is None):
        raise ConfigError("give --for or --until (one of them)")
    body: dict[str, Any] = {"alarm_id": alarm_id, "reason": reason}
    body["duration" if duration is not None else "until"] = duration if duration is not None else until
    view = connect(data).post("/api/alarms/shelve", AlarmView, body)
    if as_json:
        print_json(view)
    else:
        console.print(f"{view.alarm_id} shelved until {_when(view.shelved_until)}: {view.shelve_reason}")


@alarm_group.command("unshelve")
@click.argument("alarm_id")
@data_option
@json_option
def unshelve(alarm_id: str, data: Path | None, as_json: bool) -> None:
    """Bring a shelved alarm back now."""
    view = connect(data).post("/api/alarms/unshelve", AlarmView, {"alarm_id": alarm_id})
    if as_json:
        print_json(view)
    else:
        console.print(f"{view.alarm_id} is {view.state}")


@alarm_group.command("add")
@click.argument("point_id", type=POINT_ID)
@click.option("--id", "alarm_id", help="The alarm's id (default POINT:TYPE).")
@click.option("--high", type=float, help="Alarm above this value.")
@click.option("--low", type=float, help="Alarm below this value.")
@click.option("--state", "state", help="Alarm while the value is this (true, a state name, a number).")
@click.option("--stale", type=DURATION, help="Alarm when the value is not updated for this long.")
@click.option("--down", is_flag=True, help="Alarm while the point's device is down.")
@click.option("--deadband", type=click.FloatRange(min=0), default=0.0, help="Limit alarms clear this far back.")
@click.option("--on-delay", type=DURATION, default=0.0, help="The condition must hold this long first.")
@click.option("--off-delay", type=DURATION, default=0.0, help="It must be gone this long to clear.")
@click.option("--severity", type=click.Choice(SEVERITIES), default="medium", show_default=True)
@click.option("--message", default="", help="Template: {name} {value}{unit} {condition} {limit} {severity} {point}.")
@data_option
@json_option
def add(point_id: str, alarm_id: str | None, high: float | None, low: float | None, state: str | None,
        stale: float | None, down: bool, deadband: float, on_delay: float, off_delay: float, severity: str,
        message: str, data: Path | None, as_json: bool) -> None:
    """Define an alarm on a point at run time (one condition; kept across restarts)."""
    chosen = [c for c in (high is not None and HighLimit(limit=high, deadband=deadband),
                          low is not None and LowLimit(limit=low, deadband=deadband),
                          state is not None and StateAlarm(values=[_state(state)]),
                          stale is not None and StaleValue(period=stale),
                          down and DeviceDownAlarm()) if c]
    if len(chosen) != 1:
        raise ConfigError("give exactly one condition: --high, --low, --state, --stale or --down")
    condition = chosen[0]
    definition = AlarmDefinition(id=alarm_id or f"{point_id}:{type(condition).__struct_config__.tag}",
                                 point=point_id, condition=condition, severity=severity,  # type: ignore[arg-type]
                                 on_delay=on_delay, off_delay=off_delay, message=message)
    view = connect(data).post("/api/alarms/define", AlarmView, {"definition": definition})
    if as_json:
        print_json(view)
    else:
        console.print(f"alarm {view.alarm_id} defined on {view.point_id} ({view.state})")


def _state(text: str) -> bool | int | str:
    value = parse_value(text)
    if isinstance(value, float) or value is None:
        raise ConfigError(f"--state: {text!r} is not a state (true/false, a number of a state, its name)")
    return value


@alarm_group.command("remove")
@click.argument("alarm_id")
@data_option
def remove(alarm_id: str, data: Path | None) -> None:
    """Remove an alarm defined at run time (its history stays)."""
    connect(data).post("/api/alarms/remove", bool, {"alarm_id": alarm_id})
    console.print(f"alarm {alarm_id} removed")


__all__ = ["ack_word", "alarm_group", "alarms_group", "unacknowledged", "watch_word"]
