"""Tables and lines of the operator commands, rendered to plain text."""

from __future__ import annotations

import time
from datetime import datetime

import msgspec
import pytest
from rich.console import Console, RenderableType
from rich.text import Text

from bms.api import ComponentHealth, HistorySample, HistorySeries, RollupBucket
from bms.cli._render import (
    device_line,
    format_time,
    format_value,
    history_chart,
    history_points,
    history_summary,
    history_table,
    point_table,
    points_table,
    priority_summary,
    priority_table,
    status_table,
    watch_table,
    write_line,
)
from bms.messages import PriorityArrayView, WriteAccepted, WriteResult
from tests.cli.fake_api import state

T0 = 1_700_000_000.0


def text_of(renderable: RenderableType, width: int = 120) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    out = console.export_text()
    console.file.close()
    return out


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (21.0, "°C", "21.0 °C"), (21.55, "°C", "21.55 °C"), (1 / 3, "", "0.333"), (23, "%", "23 %"),
        (True, "", "true"), (False, "°C", "false"), (None, "°C", "—"), ("occupied", "°C", "occupied"), (1e6, "", "1000000.0"),
    ],
)
def test_format_value(value: object, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown  # type: ignore[arg-type]


def test_format_time_is_local_and_short_for_today() -> None:
    now = time.time()
    assert format_time(now, now) == datetime.fromtimestamp(now).strftime("%H:%M:%S")
    assert format_time(T0, T0 + 10 * 86400) == datetime.fromtimestamp(T0).strftime("%Y-%m-%d %H:%M:%S")
    assert format_time(None) == "—"


def test_points_table_shows_value_unit_flags_and_priority() -> None:
    out = text_of(points_table([
        state("room1/temp", 21.0, unit="°C"),
        state("room1/sp", 23, unit="°C", writable=True, active_priority=8, flags=("overridden",)),
        state("room1/fan", None, flags=("fault", "stale")),
    ]))
    assert "3 point(s)" in out
    temp = next(line for line in out.splitlines() if "room1/temp" in line)
    assert "21.0 °C" in temp and "ok" in temp
    sp = next(line for line in out.splitlines() if "room1/sp" in line)
    assert "23 °C" in sp and "overridden" in sp and sp.rstrip(" │").endswith("8")
    assert "fault stale" in out


def test_points_table_shows_the_devices_flags_apart_from_ours_when_a_point_has_any() -> None:
    plain = text_of(points_table([state("room1/temp", 21.0, unit="°C")]))
    assert "device flags" not in plain
    out = text_of(points_table([
        state("room1/temp", 21.0, unit="°C"),
        state("ahu1/sa_flow", 0.9, flags=("stale",), device_flags=("in-alarm", "out-of-service")),
    ]))
    assert "device flags" in out
    flow = next(line for line in out.splitlines() if "ahu1/sa_flow" in line)
    assert "stale" in flow and "in-alarm out-of-service" in flow and "alarm " not in flow.replace("in-alarm", "")
    one = text_of(point_table(state("ahu1/sa_flow", 0.9, device_flags=("in-alarm",))))
    assert "device flags  in-alarm" in one and "status        ok" in one


def test_user_text_is_not_read_as_markup() -> None:
    out = text_of(points_table([state("a/b", 1.0, name="Fan [bold]1[/bold]")]))
    assert "Fan [bold]1[/bold]" in out


def test_point_table_lists_the_fields() -> None:
    out = text_of(point_table(state("room1/sp", 23.0, unit="°C", writable=True, active_priority=8, device="room1")))
    assert "room1/sp" in out and "23.0 °C" in out and "number, writable" in out
    assert "active priority  8" in out and "device           room1" in out


def _view(**kw: object) -> PriorityArrayView:
    levels: list[object] = [None] * 16
    levels[7] = 23.0
    levels[15] = 19.0
    expires: list[float | None] = [None] * 16
    expires[7] = T0 + 600
    users = [""] * 16
    users[7] = "api"
    fields: dict[str, object] = dict(point_id="room1/sp", levels=tuple(levels), expires=tuple(expires), users=tuple(users),
                                     effective=23.0, active_priority=8, relinquish_default=21.0)
    fields.update(kw)
    return PriorityArrayView(**fields)  # type: ignore[arg-type]


def test_priority_table_marks_the_active_level_with_expiry_and_user() -> None:
    out = text_of(priority_table(_view(), now=T0))
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│") and line.split()[1].isdigit()}
    assert set(rows) == {str(n) for n in range(1, 17)}
    assert "23.0" in rows["8"] and "(in 10m00s)" in rows["8"] and "api" in rows["8"] and "◀ active" in rows["8"]
    assert "manual life safety" in rows["1"] and "19.0" in rows["16"]
    assert "effective 23.0 from priority 8 (relinquish default 21.0)" in out
    assert "device" not in out.splitlines()[2]


def test_priority_table_shows_the_device_array_when_read_back() -> None:
    device = [None] * 16
    device[7] = 23.0
    out = text_of(priority_table(_view(device_levels=tuple(device)), now=T0))
    assert "device" in out
    row8 = next(line for line in out.splitlines() if line.startswith("│") and line.split()[1] == "8")
    assert row8.count("23.0") == 2


def test_priority_table_says_why_the_device_array_is_missing() -> None:
    out = text_of(priority_table(_view(device_error="room1/sp: no answer from 127.0.0.2 within 7 s"), now=T0))
    assert "device: room1/sp: no answer from 127.0.0.2 within 7 s" in out


def test_priority_summary_at_relinquish_default() -> None:
    view = _view(levels=(None,) * 16, effective=21.0, active_priority=None)
    assert priority_summary(view) == "effective 21.0 from the relinquish default (relinquish default 21.0)"


def test_device_line_says_what_the_device_did() -> None:
    sent = WriteAccepted(point_id="m/sp", effective=23, active_priority=8, priority=8, request_id="r4")
    assert device_line(sent, 5.0) == "m/sp: no answer from the device within 5 s (the command is kept)"
    took = msgspec.structs.replace(sent, device=WriteResult("m/sp", True, 4, readback=23.0))
    assert device_line(took, 5.0) == "m/sp: the device took it, reads back 23.0"
    released = msgspec.structs.replace(sent, device=WriteResult("m/sp", True, 4))
    assert device_line(released, 5.0) == "m/sp: the device took it"
    assert device_line(msgspec.structs.replace(sent, request_id=None), 5.0) == ""  # a virtual point: nothing sent
    assert device_line(sent, 0.0) == ""  # not waited for


def test_write_line() -> None:
    acc = WriteAccepted(point_id="room1/sp", effective=23, active_priority=8, priority=8, expires_at=None)
    assert write_line(acc, 23) == "room1/sp: wrote 23 at priority 8; effective 23 from priority 8"
    timed = WriteAccepted(point_id="room1/sp", effective=23, active_priority=8, priority=8, expires_at=T0)
    assert write_line(timed, 23).startswith(f"room1/sp: wrote 23 at priority 8 until {format_time(T0)};")
    back = WriteAccepted(point_id="room1/sp", effective=21.0, active_priority=None, priority=8)
    assert write_line(back, released=True) == "room1/sp: released priority 8; effective 21.0 from relinquish default"


def test_status_table_colours_nothing_away() -> None:
    out = text_of(status_table([
        ComponentHealth(component="points", state="Healthy", queue_depth=3),
        ComponentHealth(component="bridge.bacnet", state="Down", restarts=5, reason="escalated: 5 restarts in 60 s"),
    ]))
    line = next(line for line in out.splitlines() if "bridge.bacnet" in line)
    assert "Down" in line and " 5 " in line and "escalated" in line
    assert "Healthy" in out


RAW = HistorySeries(point_id="room1/temp", start=T0, end=T0 + 600, rollup="raw",
                    samples=tuple(HistorySample(ts=T0 + 60 * i, value=21.0 + i / 10) for i in range(10)))
ROLLUP = HistorySeries(point_id="room1/temp", start=T0, end=T0 + 7200, rollup="15m",
                       buckets=(RollupBucket(ts=T0, avg=21.5, min=21.0, max=22.0, count=15),
                                RollupBucket(ts=T0 + 900, avg=None, min=None, max=None, count=0)))


def test_history_table_raw_and_rollup() -> None:
    raw = text_of(history_table(RAW, "°C"))
    assert "21.9 °C" in raw and raw.count("°C") == 10
    assert history_summary(RAW) == f"room1/temp: 10 samples from {format_time(T0)} to {format_time(T0 + 600)} (raw)"
    rolled = text_of(history_table(ROLLUP, "°C"))
    assert "avg" in rolled and "21.5 °C" in rolled and "22.0 °C" in rolled and "│     0 │" in rolled
    assert history_summary(ROLLUP).startswith("room1/temp: 2 periods from")


def test_history_points_skip_text_and_missing_values() -> None:
    mixed = HistorySeries(point_id="a/b", start=T0, end=T0 + 3, rollup="raw", samples=(
        HistorySample(ts=T0, value=True), HistorySample(ts=T0 + 1, value=None),
        HistorySample(ts=T0 + 2, value="auto"), HistorySample(ts=T0 + 3, value=4)))
    assert history_points(mixed) == [(T0, 1.0), (T0 + 3, 4.0)]
    assert history_points(ROLLUP) == [(T0, 21.5)]


def test_history_chart_fits_the_width() -> None:
    chart = history_chart(RAW, width=90, height=12)
    assert chart is not None
    lines = Text.from_ansi(chart).plain.splitlines()
    assert len(lines) == 12 and max(len(line) for line in lines) <= 90
    assert "room1/temp (raw)" in lines[0]
    assert datetime.fromtimestamp(T0).strftime("%H:%M") in lines[-1]


def test_history_chart_spans_the_data_when_it_starts_late_in_the_window() -> None:
    late = HistorySeries(point_id="a/b", start=T0 - 3600, end=T0 + 60, rollup="raw",
                         samples=tuple(HistorySample(ts=T0 + i, value=float(i)) for i in range(60)))
    axis = Text.from_ansi(history_chart(late, width=90) or "").plain.splitlines()[-1]
    assert datetime.fromtimestamp(T0).strftime("%H:%M:%S") in axis  # seconds: the axis is the data's minute
    assert datetime.fromtimestamp(T0 - 3600).strftime("%H:%M") not in axis


def test_history_chart_of_one_sample_and_of_nothing() -> None:
    one = HistorySeries(point_id="a/b", start=T0, end=T0 + 60, rollup="raw", samples=(HistorySample(ts=T0, value=1.0),))
    assert history_chart(one, width=60) is not None
    empty = HistorySeries(point_id="a/b", start=T0, end=T0 + 60, rollup="raw")
    assert history_chart(empty, width=60) is None


def test_watch_table_sorted_with_changes_marked() -> None:
    out = text_of(watch_table({"b/x": state("b/x", 2.0), "a/y": state("a/y", 1.0)}, changed=["b/x"]))
    lines = [line for line in out.splitlines() if "/" in line]
    assert "a/y" in lines[0] and "b/x" in lines[1]
    assert "Ctrl-C to stop" in out


def test_an_expired_level_says_so() -> None:
    out = text_of(priority_table(_view(), now=T0 + 601))
    assert "(expired)" in out


def _plain(chart: str | None) -> list[str]:
    assert chart is not None
    return Text.from_ansi(chart).plain.splitlines()


def _y_labels(lines: list[str]) -> list[str]:
    return [line.split("┤")[0].strip() for line in lines if "┤" in line]


def _plotted(lines: list[str]) -> list[str]:
    return [line for line in lines[2:-3] if any(c in line for c in "▄▀▗▖▝▘▐▌▛▜▙▟")]


def test_one_sample_draws_a_flat_line_on_its_own_range() -> None:
    one = HistorySeries(point_id="a/b", start=T0, end=T0 + 60, rollup="raw",
                        samples=(HistorySample(ts=T0 + 10, value=21.5),))
    lines = _plain(history_chart(one, width=70, height=12))
    labels = [float(label) for label in _y_labels(lines)]
    assert min(labels) >= 20.0 and max(labels) <= 23.0 and "21.50" in _y_labels(lines)
    row = next(line for line in lines if line.startswith("21.50"))
    assert row.count("▄") + row.count("▀") > 40  # a line across the window, not a dot


def test_a_rollup_of_one_bucket_is_a_readable_line() -> None:
    bucket = HistorySeries(point_id="m/kw", start=T0, end=T0 + 900, rollup="15m",
                           buckets=(RollupBucket(ts=T0, avg=250.0, min=240.0, max=260.0, count=15),))
    lines = _plain(history_chart(bucket, width=70, height=10))
    labels = [float(label) for label in _y_labels(lines)]
    assert 240.0 <= min(labels) < 250.0 < max(labels) <= 260.0
    (row,) = _plotted(lines)
    assert row.count("▄") + row.count("▀") > 40  # the bucket's average across the window


def test_booleans_and_multistates_are_steps_with_their_state_names() -> None:
    fan = HistorySeries(point_id="ahu1/fan", start=T0, end=T0 + 600, rollup="raw",
                        samples=tuple(HistorySample(ts=T0 + 120 * i, value=i % 2 == 0) for i in range(5)))
    lines = _plain(history_chart(fan, width=70, height=10, kind="bool"))
    assert _y_labels(lines) == ["true", "false"]
    assert len(_plotted(lines)) >= 3  # the true row, the false row and the risers between them
    mode = HistorySeries(point_id="ahu1/mode", start=T0, end=T0 + 600, rollup="raw",
                         samples=(HistorySample(ts=T0, value=1), HistorySample(ts=T0 + 200, value="cool"),
                                  HistorySample(ts=T0 + 400, value=2)))
    lines = _plain(history_chart(mode, width=70, height=12, kind="enum", states=("off", "heat", "cool")))
    assert _y_labels(lines) == ["cool", "heat", "off"]
