"""``bms schedule pull DEVICE`` and ``bms schedule push NAME DEVICE``: a controller's own BACnet schedules.

The lead adds both to the engine's ``bms schedule`` group. ``pull`` shows
the device's Schedule objects (weekly program, exceptions with their
priorities, default, what they write) and Calendar objects (their dates);
``--json`` gives them as :class:`~bms.schedules.DeviceSchedule`. ``push``
writes the engine's schedule NAME, or one read from ``--from FILE`` (what
``pull --json`` printed, edited: a DeviceSchedule, a list of them, or a
bare Schedule), and shows the object as the device holds it afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import msgspec
from rich.table import Table

from actors.components.bacnet._schedules import SCHEDULE_TIMEOUT
from actors.components.schedules._device import PushBody
from bms.cli import connect, console, data_option, json_option, print_json
from bms.errors import ConfigError
from bms.schedules import WEEKDAYS, DateRule, DeviceSchedule, Schedule, TimeValue

HTTP_TIMEOUT = SCHEDULE_TIMEOUT + 5.0


def _path(device_id: str, action: str) -> str:
    return f"/api/schedules/devices/{quote(device_id, safe='')}/{action}"


def _program(program: list[TimeValue]) -> str:
    return "  ".join(f"{tv.at}={tv.value}" for tv in sorted(program, key=lambda tv: tv.seconds)) or "(default all day)"


def _rule(rule: DateRule) -> str:
    fields = msgspec.structs.asdict(rule)
    return f"{rule.__class__.__name__.lower()} " + " ".join(f"{k}={v}" for k, v in fields.items() if v not in ([], None))


def device_table(held: DeviceSchedule) -> Table:
    """One Schedule or Calendar object as the operator reads it."""
    table = Table(title=f"{held.device_id} {held.object_id}: {held.name}", title_justify="left", show_header=False)
    table.add_column("what", no_wrap=True, style="bold")
    table.add_column("value", ratio=1)
    if held.schedule is None:
        table.add_row("today", "in the calendar" if held.present_value else "not in the calendar")
        for rule in held.dates:
            table.add_row("date", _rule(rule))
        return table
    schedule = held.schedule
    table.add_row("now", str(held.present_value))
    table.add_row("default", str(schedule.default))
    for day in WEEKDAYS:
        table.add_row(day, _program(schedule.weekly.get(day, [])))  # type: ignore[call-overload]
    for ex in schedule.exceptions:
        table.add_row(f"exception p{ex.priority}", f"{ex.name}: {_rule(ex.when)} -> {_program(ex.program)}")
    period = f"{held.effective_from or 'always'} .. {held.effective_to or 'always'}"
    table.add_row("effective", period)
    table.add_row("writes", ", ".join(held.references) + f" at priority {held.priority_for_writing}")
    return table


@click.command("pull")
@click.argument("device_id", metavar="DEVICE")
@data_option
@json_option
def pull_command(device_id: str, data: Path | None, as_json: bool) -> None:
    """Read a controller's own Schedule and Calendar objects and show them."""
    held = connect(data).post(_path(device_id, "pull"), list[DeviceSchedule], {}, timeout=HTTP_TIMEOUT)
    if as_json:
        print_json(held)
        return
    if not held:
        console.print(f"{device_id} has no Schedule or Calendar object")
    for one in held:
        console.print(device_table(one))


def _from_file(path: Path, name: str, object_id: str | None) -> tuple[Schedule | None, list[DateRule] | None, str | None]:
    """(schedule, dates, object id) from a file ``pull --json`` wrote (edited) or a bare Schedule."""
    try:
        raw: Any = msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError) as err:
        raise ConfigError(f"{path}: cannot read it as JSON: {err}") from None
    try:
        if isinstance(raw, dict) and "device_id" not in raw:
            return msgspec.convert(raw, Schedule), None, object_id
        items = msgspec.convert(raw if isinstance(raw, list) else [raw], list[DeviceSchedule])
    except msgspec.ValidationError as err:
        raise ConfigError(f"{path}: {err}") from None
    chosen = [d for d in items if d.object_id == object_id] if object_id else (
        [d for d in items if d.name == name] or (items if len(items) == 1 else []))
    if len(chosen) != 1:
        raise ConfigError(f"{path}: name the object to push with --object (it holds "
                          f"{', '.join(d.object_id for d in items) or 'none'})")
    one = chosen[0]
    if one.schedule is not None:
        return msgspec.structs.replace(one.schedule, name=name), None, one.object_id
    return None, list(one.dates), one.object_id


@click.command("push")
@click.argument("name")
@click.argument("device_id", metavar="DEVICE")
@click.option("--object", "object_id", metavar="OBJECT", help="The object to write (schedule,1; calendar,1).")
@click.option("--from", "source", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Push what this file holds (pull --json's output, edited) instead of the engine's NAME.")
@data_option
@json_option
def push_command(name: str, device_id: str, object_id: str | None, source: Path | None, data: Path | None,
                 as_json: bool) -> None:
    """Write schedule NAME to a controller's Schedule object (or dates to a Calendar object)."""
    schedule, dates, target = _from_file(source, name, object_id) if source is not None else (None, None, object_id)
    body = PushBody(name=name, object_id=target, schedule=schedule, dates=dates)
    held = connect(data).post(_path(device_id, "push"), DeviceSchedule, body, timeout=HTTP_TIMEOUT)
    if as_json:
        print_json(held)
        return
    console.print(f"written to {held.device_id} {held.object_id}; the device now holds:")
    console.print(device_table(held))
