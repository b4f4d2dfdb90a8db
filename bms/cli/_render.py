"""Tables and lines the operator commands print; the shell reuses them.

Pure functions from reply Structs to rich renderables or text: no client,
no console, so they are tested on their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from rich.table import Table
from rich.text import Text

from bms.messages import PointState, PriorityArrayView, Value, WriteAccepted

if TYPE_CHECKING:
    from bms.api import HistorySeries

_STATE_STYLES = {"Healthy": "green", "Degraded": "yellow", "Down": "bold red", "Unknown": "dim"}
_FLAG_STYLES = {"alarm": "bold red", "fault": "red", "down": "red", "stale": "yellow", "overridden": "cyan", "disabled": "dim"}
_DEVICE_FLAG_STYLES = {"in-alarm": "bold red", "fault": "red", "overridden": "cyan", "out-of-service": "yellow"}

#: BACnet's names for the reserved command priorities.
PRIORITY_NAMES = {
    1: "manual life safety",
    2: "automatic life safety",
    5: "critical equipment control",
    6: "minimum on/off",
    8: "manual operator",
}


def format_value(value: Value, unit: str = "") -> str:
    """A value as an operator reads it: ``21.5 °C``, ``true``, ``—`` for no value."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        text = text + "0" if text.endswith(".") else text
    else:
        text = str(value)
    return f"{text} {unit}" if unit and not isinstance(value, (bool, str)) else text


def format_time(ts: float | None, now: float | None = None) -> str:
    """Local time: ``HH:MM:SS`` today, else ``YYYY-MM-DD HH:MM:SS``; ``—`` for none."""
    if ts is None:
        return "—"
    stamp = datetime.fromtimestamp(ts)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return stamp.strftime("%H:%M:%S" if stamp.date() == today else "%Y-%m-%d %H:%M:%S")


def _coloured(flags: Iterable[str], styles: Mapping[str, str]) -> Text:
    text = Text()
    for i, flag in enumerate(flags):
        if i:
            text.append(" ")
        text.append(flag, style=styles.get(flag, ""))
    return text


def flags_text(flags: Iterable[str]) -> Text:
    """Status flags, each in its colour; ``ok`` when there are none."""
    text = _coloured(flags, _FLAG_STYLES)
    return text if text.plain else Text("ok", style="green")


def device_flags_text(flags: Iterable[str]) -> Text:
    """The device's own status flags (BACnet's), each in its colour; empty when there are none."""
    return _coloured(flags, _DEVICE_FLAG_STYLES)


def state_text(state: str) -> Text:
    """A component health state in its colour."""
    return Text(state, style=_STATE_STYLES.get(state, ""))


class ComponentView(Protocol):
    """What the status table shows of a component's health."""

    @property
    def component(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def last_error(self) -> str: ...
    @property
    def restarts(self) -> int: ...
    @property
    def queue_depth(self) -> int: ...


def status_table(components: Iterable[ComponentView]) -> Table:
    """Component health: name, state, restarts, queue depth, reason (and data lost, when any was)."""
    rows = list(components)
    losses = any(getattr(c, "lost", 0) for c in rows)
    table = Table(title="components", title_justify="left")
    table.add_column("component")
    table.add_column("state")
    table.add_column("restarts", justify="right")
    table.add_column("queue", justify="right")
    if losses:
        table.add_column("lost", justify="right", style="bold red")
    table.add_column("reason", overflow="fold")
    for c in rows:
        cells: list[Text | str] = [Text(c.component), state_text(c.state), str(c.restarts), str(c.queue_depth)]
        if losses:
            cells.append(str(getattr(c, "lost", 0) or ""))
        table.add_row(*cells, Text(c.reason or c.last_error))
    return table


def points_table(points: Sequence[PointState]) -> Table:
    """Points: id, name, value with unit, flags, the device's flags (when a point has any), active priority."""
    device = any(p.device_flags for p in points)
    table = Table(caption=f"{len(points)} point(s)", caption_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("name")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("flags")
    if device:
        table.add_column("device flags")
    table.add_column("priority", justify="right")
    for p in points:
        cells: list[Text | str] = [Text(p.point_id), Text(p.name), Text(format_value(p.value, p.unit)), flags_text(p.flags)]
        if device:
            cells.append(device_flags_text(p.device_flags))
        table.add_row(*cells, "" if p.active_priority is None else str(p.active_priority))
    return table


def point_table(point: PointState) -> Table:
    """One point, field by field."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("point", Text(point.point_id))
    table.add_row("name", Text(point.name))
    table.add_row("value", Text(format_value(point.value, point.unit), style="bold"))
    table.add_row("status", flags_text(point.flags))
    if point.device_flags:
        table.add_row("device flags", device_flags_text(point.device_flags))
    table.add_row("updated", format_time(point.ts))
    table.add_row("kind", point.kind + (", writable" if point.writable else ""))
    if point.writable:
        table.add_row("active priority", "relinquish default" if point.active_priority is None else str(point.active_priority))
    if point.device:
        table.add_row("device", Text(point.device))
    if point.reason:
        table.add_row("reason", Text(point.reason))
    return table


def priority_table(view: PriorityArrayView, now: float | None = None) -> Table:
    """The 16 command levels with expiry and user; the active one marked."""
    now = time.time() if now is None else now
    caption = priority_summary(view) + (f"\ndevice: {view.device_error}" if view.device_error else "")
    table = Table(title=Text(f"{view.point_id} priority array"), title_justify="left",
                  caption=Text(caption), caption_justify="left")
    table.add_column("level", justify="right", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("expires", no_wrap=True)
    table.add_column("user", no_wrap=True)
    if view.device_levels is not None:
        table.add_column("device", justify="right")
    table.add_column("")
    for i, value in enumerate(view.levels):
        level = i + 1
        expires = view.expires[i] if i < len(view.expires) else None
        user = view.users[i] if i < len(view.users) else ""
        active = level == view.active_priority
        until = "" if expires is None else f"{format_time(expires, now)} ({_left(expires - now)})"
        row: list[str | Text] = [str(level), Text(format_value(value)), until, Text(user)]
        if view.device_levels is not None:
            row.append(Text(format_value(view.device_levels[i]) if i < len(view.device_levels) else "—"))
        row.append(Text("◀ active" if active else PRIORITY_NAMES.get(level, ""), style="bold green" if active else "dim"))
        table.add_row(*row, style="bold" if active else None)
    return table


def priority_summary(view: PriorityArrayView) -> str:
    """``effective 23 from priority 8 (relinquish default 21)``."""
    source = "the relinquish default" if view.active_priority is None else f"priority {view.active_priority}"
    return (f"effective {format_value(view.effective)} from {source} "
            f"(relinquish default {format_value(view.relinquish_default)})")


def write_line(accepted: WriteAccepted, value: Value | None = None, released: bool = False) -> str:
    """What a write or release did, in one line."""
    action = f"released priority {accepted.priority}" if released else \
        f"wrote {format_value(value)} at priority {accepted.priority}"
    until = "" if accepted.expires_at is None else f" until {format_time(accepted.expires_at)}"
    source = "relinquish default" if accepted.active_priority is None else f"priority {accepted.active_priority}"
    return f"{accepted.point_id}: {action}{until}; effective {format_value(accepted.effective)} from {source}"


def device_line(accepted: WriteAccepted, waited: float) -> str:
    """What the device said of a write that moved a device point ("" if nothing was sent or awaited)."""
    if accepted.request_id is None or waited <= 0:
        return ""
    result = accepted.device
    if result is None:
        return f"{accepted.point_id}: no answer from the device within {waited:g} s (the command is kept)"
    if result.ok:
        back = "" if result.readback is None else f", reads back {format_value(result.readback)}"
        return f"{accepted.point_id}: the device took it{back}"
    return ""  # a refusal is the command's error line


def watch_table(states: Mapping[str, PointState], changed: Iterable[str] = ()) -> Table:
    """The live table of ``watch``: points just changed are highlighted."""
    fresh = set(changed)
    device = any(p.device_flags for p in states.values())
    table = Table(caption="Ctrl-C to stop", caption_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("flags")
    if device:
        table.add_column("device flags")
    table.add_column("updated")
    for pid in sorted(states):
        p = states[pid]
        cells: list[Text | str] = [Text(pid), Text(format_value(p.value, p.unit), style="bold yellow" if pid in fresh else ""),
                                   flags_text(p.flags)]
        if device:
            cells.append(device_flags_text(p.device_flags))
        table.add_row(*cells, format_time(p.ts))
    return table


def _left(seconds: float) -> str:
    """``in 9m59s``, or ``expired``."""
    if seconds <= 0:
        return "expired"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "in " + (f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s")


# -------------------------------------------------------------------- history


def history_points(series: HistorySeries, states: Sequence[str] = ()) -> list[tuple[float, float]]:
    """The numeric (ts, value) pairs of a series: samples, or bucket averages; booleans as 0/1,
    a state name as its number (1 for the first of ``states``)."""
    raw: Iterable[tuple[float, Value]] = (
        ((s.ts, s.value) for s in series.samples) if series.rollup == "raw" else ((b.ts, b.avg) for b in series.buckets)
    )
    out: list[tuple[float, float]] = []
    for ts, v in raw:
        if isinstance(v, (int, float)):
            out.append((ts, float(v)))
        elif isinstance(v, str) and v in states:
            out.append((ts, float(states.index(v) + 1)))
    return out


def state_names(kind: str, states: Sequence[str] = ()) -> dict[float, str]:
    """The y-axis labels of a point drawn as steps: false/true, or the names of a multi-state point's states."""
    if kind == "bool":
        names = list(states) if len(states) == 2 else ["false", "true"]
        return {0.0: names[0], 1.0: names[1]}
    if kind == "enum":
        return {float(i + 1): name for i, name in enumerate(states)}
    return {}


def history_table(series: HistorySeries, unit: str = "") -> Table:
    """The rows of a series: time and value, or period, avg, min, max and count of a rollup."""
    table = Table()
    table.add_column("time", no_wrap=True)
    if series.rollup == "raw":
        table.add_column("value", justify="right")
        for s in series.samples:
            table.add_row(format_time(s.ts), Text(format_value(s.value, unit)))
        return table
    for name in ("avg", "min", "max"):
        table.add_column(name, justify="right")
    table.add_column("count", justify="right")
    for b in series.buckets:
        table.add_row(format_time(b.ts), format_value(b.avg, unit), format_value(b.min, unit),
                      format_value(b.max, unit), str(b.count))
    return table


def history_chart(series: HistorySeries, width: int, height: int = 15, kind: str = "number",
                  states: Sequence[str] = ()) -> str | None:
    """A terminal chart of the series (ANSI text, ``width`` columns); None when nothing is numeric.

    A value holds until the next one: the last (or only) one is drawn to the
    window's end. The y axis is the values' own range, even for one value.
    Boolean and multi-state points (``kind`` bool or enum) are drawn as
    steps, their states named on the y axis.
    """
    import plotext as plt

    data = history_points(series, states)
    if not data:
        return None
    xs = [ts for ts, _ in data]
    ys = [v for _, v in data]
    # the axis spans the data when it starts later than the window (a new point, a fresh daemon)
    lo = max(series.start, min(xs)) if len(xs) > 1 else min(series.start, xs[0])
    hi = max(series.end, max(xs), lo + 1)
    names = state_names(kind, states)
    if names or kind in ("bool", "enum"):
        xs, ys = _steps(xs, ys)
    if xs[-1] < hi:  # the last value holds to the end of the window
        xs, ys = [*xs, hi], [*ys, ys[-1]]
    fig = plt.figure
    fig.clear()
    fig.theme("simple")
    fig.plot_size(max(width, 30), max(height, 6))
    signal = fig.signal(xs, ys)
    signal.lines()
    fig.draw(signal)
    fig.title(f"{series.point_id} ({series.rollup})")
    fig.ruler("x").lim(lo, hi)
    ticks = [lo + (hi - lo) * i / 4 for i in range(5)]
    fig.ruler("x").ticks(ticks, [_tick_label(t, hi - lo) for t in ticks])
    bottom, top = _value_range(ys, names)
    fig.ruler("y").lim(bottom, top)
    if names:
        levels = sorted(names)
        fig.ruler("y").ticks(levels, [names[level] for level in levels])
    text: str = fig.build().string()
    fig.clear()
    return text


def _steps(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """The corners of a step line: each value holds until the next sample."""
    out_x, out_y = [xs[0]], [ys[0]]
    for x, y in zip(xs[1:], ys[1:], strict=True):
        out_x += [x, x]
        out_y += [out_y[-1], y]
    return out_x, out_y


def _value_range(ys: Sequence[float], names: Mapping[float, str]) -> tuple[float, float]:
    """The y limits: the values' own range with a margin (a flat line sits mid-chart), or every state."""
    low, high = min(ys), max(ys)
    if names:
        low, high = min(low, *names), max(high, *names)
        return low - 0.25, high + 0.25
    if high == low:
        margin = max(abs(low) * 0.01, 0.5)
        return low - margin, high + margin
    margin = (high - low) * 0.05
    return low - margin, high + margin


def _tick_label(ts: float, span: float) -> str:
    stamp = datetime.fromtimestamp(ts)
    return stamp.strftime("%H:%M:%S" if span < 600 else "%H:%M" if span <= 86400 else "%m-%d %H:%M")


def history_summary(series: HistorySeries) -> str:
    """``room1/temp: 60 samples from 10:00:00 to 11:00:00 (raw)``."""
    count = len(series.samples) if series.rollup == "raw" else len(series.buckets)
    rows = f"{count} {'sample' if series.rollup == 'raw' else 'period'}{'' if count == 1 else 's'}"
    return f"{series.point_id}: {rows} from {format_time(series.start)} to {format_time(series.end)} ({series.rollup})"
