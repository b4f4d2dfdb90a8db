"""``watch``: a live table of point values, updated in place until Ctrl-C."""

from __future__ import annotations

from collections.abc import Iterable

import click
import msgspec
from rich.live import Live

from bms.cli._app import console
from bms.cli._common import POINT_ID, connect, no_points
from bms.cli._plugins import shell_words
from bms.cli._render import watch_table
from bms.messages import PointState, StatusChanged, ValueChanged
from bms.shell._vocabulary import vocabulary


def apply(states: dict[str, PointState], event: ValueChanged | StatusChanged) -> list[str]:
    """Fold a live event into ``states``; returns the ids it changed (unknown ids ignored)."""
    changed: list[str] = []
    if isinstance(event, ValueChanged):
        for v in event.values:
            if v.point_id in states:
                states[v.point_id] = msgspec.structs.replace(states[v.point_id], value=v.value, ts=v.ts, flags=v.flags)
                changed.append(v.point_id)
    elif event.point_id in states:
        states[event.point_id] = msgspec.structs.replace(states[event.point_id], flags=event.flags, reason=event.reason,
                                                         device_flags=event.device_flags)
        changed.append(event.point_id)
    return changed


@vocabulary.command("watch")
@click.argument("pattern", required=False, type=POINT_ID, metavar="[PATTERN]")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Points carrying this tag (repeatable: all of them).")
@click.pass_context
def watch(ctx: click.Context, pattern: str | None, tags: tuple[str, ...]) -> None:
    """Live values of the points whose id matches PATTERN (a glob) or carry the tags, until Ctrl-C.

    ``watch NAME`` runs a component's view when one offers the shell word
    ``watch-NAME`` (``watch alarms``: the active alarms, live)."""
    if not pattern and not tags:
        raise click.UsageError("name a PATTERN (e.g. 'ahu1/*') or a --tag")
    view = shell_words().get(f"watch-{pattern}") if pattern and not tags else None
    if view is not None:
        ctx.invoke(view)
        return
    client = connect(None)
    found = client.points(tags=list(tags), pattern=pattern)
    if not found:
        raise no_points(pattern, tags)
    states = {p.point_id: p for p in found}
    try:
        with client.stream(points=sorted(states)) as events:
            _follow(events, states)
    except KeyboardInterrupt:
        pass
    console.print(f"stopped watching {len(states)} point(s)", highlight=False)


def _follow(events: Iterable[ValueChanged | StatusChanged], states: dict[str, PointState]) -> None:
    with Live(watch_table(states), console=console, refresh_per_second=8, transient=False) as live:
        for event in events:
            changed = apply(states, event)
            if changed:
                live.update(watch_table(states, changed))
