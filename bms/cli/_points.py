"""``bms points list`` and ``bms point read|write|release|priority``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms.cli._app import cli, console, fail, print_json
from bms.cli._common import (
    DURATION,
    POINT_ID,
    POINT_VALUE,
    SignedArguments,
    connect,
    data_option,
    json_option,
    naming_point,
    no_points,
)
from bms.cli._render import PRIORITY_NAMES, device_line, format_value, point_table, points_table, priority_table, write_line
from bms.messages import Value

_PRIORITY = click.IntRange(1, 16)
LIFE_SAFETY = (1, 2)


def on_terminal() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def confirm_life_safety(point_id: str, value: Value, priority: int) -> None:
    """Ask on a terminal before a life-safety write; refuse in a script (it needs --yes)."""
    what = f"priority {priority} is {PRIORITY_NAMES[priority]}"
    if not on_terminal():
        fail(f"{point_id}: {what}: add --yes to write it from a script")
    if not click.confirm(f"{point_id}: {what}. Write {format_value(value)} at priority {priority}?", default=False):
        fail(f"{point_id}: not written (not confirmed)")


@cli.group("points")
def points_group() -> None:
    """Find points."""


@points_group.command("list")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only points carrying this tag (repeatable: all of them).")
@click.option("--under", metavar="NODE", help="Only points under this site, space or equipment.")
@click.option("--pattern", metavar="GLOB", help="Only point ids matching this glob, e.g. 'ahu1/*'.")
@data_option
@json_option
def list_points(tags: tuple[str, ...], under: str | None, pattern: str | None, data: Path | None, as_json: bool) -> None:
    """Points with their live values, status flags and active priority."""
    found = connect(data).points(under=under, tags=list(tags), pattern=pattern)
    if not found and (pattern or tags):
        raise no_points(pattern, tags)
    if as_json:
        print_json(found)
    else:
        console.print(points_table(found))


@cli.group("point")
def point_group() -> None:
    """Read and command one point."""


@point_group.command("read")
@click.argument("point_id", metavar="ID", type=POINT_ID)
@data_option
@json_option
def read(point_id: str, data: Path | None, as_json: bool) -> None:
    """The live value and status of point ID."""
    client = connect(data)
    with naming_point(client, point_id):
        state = client.point(point_id)
    if as_json:
        print_json(state)
    else:
        console.print(point_table(state))


@point_group.command("write", cls=SignedArguments)
@click.argument("point_id", metavar="ID", type=POINT_ID)
@click.argument("value", type=POINT_VALUE)
@click.option("--priority", "-p", type=_PRIORITY, default=8, show_default=True, help="Command priority, 1 highest .. 16 lowest.")
@click.option("--for", "duration", type=DURATION, metavar="DURATION",
              help="Timed override that expires by itself, e.g. 15m, 1h30m.")
@click.option("--wait", type=click.FloatRange(0, 60), default=5.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the device to take the value (0: do not wait).")
@click.option("--yes", "-y", is_flag=True, help="Confirm a life-safety write (priority 1 or 2) without asking.")
@data_option
@json_option
def write(point_id: str, value: Value, priority: int, duration: float | None, wait: float, yes: bool,
          data: Path | None, as_json: bool) -> None:
    """Command point ID to VALUE (true, false, null, a number such as -20, or text).

    The command is kept at its priority whatever the device says; when it
    moves the value of a device point, the device's answer (written and read
    back, or why not) is shown, and a refusal exits 1. Priorities 1 and 2 are
    life safety: on a terminal the command asks first, in a script it needs
    --yes.
    """
    if priority in LIFE_SAFETY and not yes:
        confirm_life_safety(point_id, value, priority)
    client = connect(data)
    with naming_point(client, point_id):
        accepted = client.write(point_id, value, priority=priority, duration=duration, wait=wait)
    if as_json:
        print_json(accepted)
    else:
        console.print(write_line(accepted, value), markup=False, highlight=False, soft_wrap=True)
        line = device_line(accepted, wait)
        if line:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    if accepted.device is not None and not accepted.device.ok:
        fail(f"{point_id}: the device did not take the value: {accepted.device.error} "
             f"(the command stays at priority {accepted.priority})")


@point_group.command("release")
@click.argument("point_id", metavar="ID", type=POINT_ID)
@click.option("--priority", "-p", type=_PRIORITY, default=8, show_default=True, help="The level to relinquish.")
@click.option("--wait", type=click.FloatRange(0, 60), default=5.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the device to take the new value (0: do not wait).")
@data_option
@json_option
def release(point_id: str, priority: int, wait: float, data: Path | None, as_json: bool) -> None:
    """Relinquish the command of point ID at a priority.

    An empty level is said so and exits 1 (nothing changed). When that moves the value of a device point, the device's answer is
    shown as for `point write`, and a refusal exits 1.
    """
    client = connect(data)
    with naming_point(client, point_id):
        accepted = client.relinquish(point_id, priority=priority, wait=wait)
    if accepted.level_was_empty:
        fail(f"{point_id}: nothing to release at priority {priority}: the level is empty "
             f"(effective {format_value(accepted.effective)})")
    if as_json:
        print_json(accepted)
    else:
        console.print(write_line(accepted, released=True), markup=False, highlight=False, soft_wrap=True)
        line = device_line(accepted, wait)
        if line:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    if accepted.device is not None and not accepted.device.ok:
        fail(f"{point_id}: the device did not take the release: {accepted.device.error}")


@point_group.command("priority")
@click.argument("point_id", metavar="ID", type=POINT_ID)
@data_option
@json_option
def priority(point_id: str, data: Path | None, as_json: bool) -> None:
    """The 16-level priority array of point ID, with expiry, user and the effective value."""
    client = connect(data)
    with naming_point(client, point_id):
        view = client.priority(point_id)
    if as_json:
        print_json(view)
    else:
        console.print(priority_table(view))
