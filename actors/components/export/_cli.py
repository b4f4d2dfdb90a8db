"""``bms export status`` and ``bms export backfill TARGET --since 30d``.

With a daemon running on the data directory both go through its API (the
backfill runs in the daemon; this command follows it with a progress bar).
Without one, ``status`` reads the targets' outboxes and ``backfill`` runs
here, with the settings file's ``[influx]`` / ``[postgres]``; interrupted
(Ctrl-C, a kill), it resumes where it stopped the next time.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bms.cli import connect, console, data_option, fail, json_option, print_json
from bms.cli._common import TIME, data_dir
from bms.cli._common import daemon_running as _daemon_running
from bms.cli._render import format_time
from bms.errors import BmsError, ConfigError, NotFound
from bms.export import BackfillJob, BackfillProgress, BackfillRequest, TargetStatus

F = TypeVar("F", bound=Callable[..., Any])

STATE_STYLE = {"live": "green", "idle": "dim", "catching up": "yellow", "backfilling": "cyan", "error": "bold red"}
POLL = 0.5


def one_line(fn: F) -> F:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BmsError as err:
            fail(str(err))

    return run  # type: ignore[return-value]


config_option = click.option("--config", "-c", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
                             help="Without a daemon: the settings file whose [influx]/[postgres] to use.")


@click.group("export")
def export_group() -> None:
    """Time-series export targets (InfluxDB-compatible, PostgreSQL): status and backfill."""


@export_group.command("status")
@config_option
@data_option
@json_option
@one_line
def status(config: Path | None, data: Path | None, as_json: bool) -> None:
    """Each target: state (idle, live, catching up, backfilling, error), rows buffered on disk, the oldest's
    age, rows/s written, the backfill's progress."""
    path = data_dir(data)
    running = _daemon_running(path)
    found = connect(data).get("/api/export", list[TargetStatus]) if running else _offline_status(path, config)
    if as_json:
        print_json(found)
        return
    console.print(table(found))


def table(found: list[TargetStatus]) -> Table:
    t = Table(caption=f"{len(found)} export target(s)", caption_justify="left")
    for name in ("target", "kind", "state", "buffered", "oldest", "rows/s", "sent", "backfill", "reason"):
        t.add_column(name, justify="right" if name in ("buffered", "oldest", "rows/s", "sent") else "left")
    for s in found:
        b = s.backfill
        backfill = "" if b is None else (f"done ({b.sent})" if b.done else f"{b.sent}/{b.total}")
        t.add_row(Text(s.name), s.kind, Text(s.state, style=STATE_STYLE.get(s.state, "")), str(s.buffered),
                  f"{s.oldest_age:.0f} s" if s.buffered else "", f"{s.rate:.0f}", str(s.sent), backfill,
                  Text(s.reason))
    return t


@export_group.command("backfill")
@click.argument("target")
@click.option("--since", "since", type=TIME, default="30d", show_default=True, metavar="TIME",
              help="Start: 30d, 12h (ago), a date, ISO 8601 or epoch seconds.")
@click.option("--until", "until", type=TIME, default=None, metavar="TIME", help="End (default now).")
@click.option("--no-wait", is_flag=True, help="With a daemon: start it and return.")
@click.option("--restart", is_flag=True,
              help="End a backfill that has not finished (it goes on otherwise) and start this range.")
@config_option
@data_option
@json_option
@one_line
def backfill(target: str, since: float, until: float | None, no_wait: bool, restart: bool, config: Path | None,
             data: Path | None, as_json: bool) -> None:
    """Send recorded history to TARGET, with a progress bar; resumable, never duplicated on the target.

    A backfill of TARGET that has not finished (Ctrl-C, a stop) goes on first, on its own range, and this
    says so; --restart ends it and sends the range asked for instead."""
    end = time.time() if until is None else until
    if end <= since:
        raise ConfigError("--since is not before --until")
    path = data_dir(data)
    if _daemon_running(path):
        client = connect(data)
        progress = client.post(f"/api/export/{target}/backfill", BackfillProgress,
                               BackfillRequest(since=repr(since), until=repr(end), restart=restart))
        _say_resumed(progress, as_json)
        if not no_wait:
            progress = _follow(lambda: client.get(f"/api/export/{target}", TargetStatus), progress, as_json)
    else:
        progress = _backfill_here(path, config, target, since, end, as_json, restart)
    if as_json:
        print_json(progress)
    else:
        word = "done" if progress.done else "running in the daemon"
        console.print(f"backfill of {target}: {progress.sent} of {progress.total} rows sent ({word})",
                      highlight=False)


def _say_resumed(progress: BackfillProgress, as_json: bool) -> None:
    if progress.resumed and not as_json:
        console.print(f"going on with the unfinished backfill of {format_time(progress.since)} .. "
                      f"{format_time(progress.until)} ({progress.sent} of {progress.total} rows sent); "
                      "--restart ends it and sends the range asked for instead", highlight=False)


def _bar(as_json: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("points"),
                    TextColumn("{task.fields[rate]:>9.0f} points/s"), TimeElapsedColumn(), console=console,
                    disable=as_json or not console.is_terminal, transient=False)


def _follow(get: Callable[[], TargetStatus], first: BackfillProgress, as_json: bool) -> BackfillProgress:
    last = first
    with _bar(as_json) as bar:
        task = bar.add_task("backfill", total=first.total or None, completed=first.sent, rate=first.rate)
        while not last.done:
            time.sleep(POLL)  # a user watching a bar, not a test waiting: poll the daemon at a human pace
            status = get()
            if status.backfill is None or status.backfill.id != first.id:
                break
            last = status.backfill
            note = f"backfill ({status.reason})" if status.reason else "backfill"
            bar.update(task, total=last.total or None, completed=last.sent, rate=last.rate, description=note)
    return last


# ------------------------------------------------------------------ no daemon
def _sections(config: Path | None) -> list[tuple[str, Any]]:
    from bms.config import load_settings

    settings, _where = load_settings(config, isolate=True)
    found: list[tuple[str, Any]] = []
    for kind in ("influx", "postgres"):
        problems = settings.broken.get(kind)
        if problems:
            raise ConfigError(problems[0])
        section = settings.sections.get(kind)
        if section is not None:
            found += [(kind, t) for t in section.targets]
    return found


def _offline_status(path: Path, config: Path | None) -> list[TargetStatus]:
    from actors.components.export._target import outbox_path
    from bms.export import Outbox

    out = []
    now = time.time()
    for kind, target in _sections(config):
        file = outbox_path(path, target.name)
        buffered, oldest, job = 0, None, None
        if file.exists():
            box = Outbox(file)
            try:
                buffered, oldest = box.size, box.oldest_ts
                jobs = box.jobs()
                job = jobs[-1] if jobs else None
            finally:
                box.close()
        progress = None if job is None else BackfillProgress(id=job.id, since=job.since, until=job.until,
                                                             sent=job.sent, total=job.total, done=job.done)
        out.append(TargetStatus(name=target.name, kind=kind, state="catching up" if buffered else "idle",
                                reason="no daemon running", buffered=buffered,
                                oldest_age=max(0.0, now - oldest) if oldest is not None else 0.0,
                                backfill=progress))
    return out


def _backfill_here(path: Path, config: Path | None, name: str, since: float, until: float,
                   as_json: bool, restart: bool = False) -> BackfillProgress:
    """The backfill run in this process, page by page, its cursor saved after each (Ctrl-C: resume later)."""
    from actors.components.export._target import outbox_path
    from actors.components.export._targets import make_sink
    from bms.export import HistoryPages, Outbox, Throughput

    targets = dict((t.name, (kind, t)) for kind, t in _sections(config))
    if name not in targets:
        known = ", ".join(targets) or "none is configured"
        raise NotFound(f"no export target named {name!r} (targets: {known})")
    kind, target = targets[name]
    box = Outbox(outbox_path(path, name))
    history = HistoryPages(path / "history.db", since, until)
    sink = make_sink(kind, target, _tags(path))
    try:
        unfinished = [j for j in box.jobs() if not j.done]
        if restart:
            for old in unfinished:  # ended, with what it had sent
                box.save_job(BackfillJob(id=old.id, since=old.since, until=old.until, point=old.point, ts=old.ts,
                                         sent=old.sent, total=old.total, done=True))
            unfinished = []
        resumed = bool(unfinished)
        if unfinished:  # an interrupted backfill resumes on its own range, after its last page
            job = unfinished[-1]
            history.close()
            history = HistoryPages(path / "history.db", job.since, job.until)
            _say_resumed(BackfillProgress(id=job.id, since=job.since, until=job.until, sent=job.sent,
                                          total=job.total, done=False, resumed=True), as_json)
        else:
            job = BackfillJob(id=f"{since:.0f}-{until:.0f}-{time.time():.0f}", since=since, until=until,
                              total=history.total())
        box.save_job(job)
        rate = Throughput()
        with _bar(as_json) as bar:
            task = bar.add_task(f"backfill {name}", total=job.total or None, completed=job.sent, rate=0.0)
            while True:
                rows, point, ts = history.page(job.point, job.ts, target.batch)
                if not rows:
                    job = BackfillJob(id=job.id, since=job.since, until=job.until, point=job.point, ts=job.ts,
                                      sent=job.sent, total=job.total, done=True)
                    box.save_job(job)
                    break
                sink.backfill(rows)
                job = BackfillJob(id=job.id, since=job.since, until=job.until, point=point, ts=ts,
                                  sent=job.sent + len(rows), total=max(job.total, job.sent + len(rows)))
                box.save_job(job)
                rate.add(time.monotonic(), len(rows))
                bar.update(task, completed=job.sent, rate=rate.rate(time.monotonic()))
    finally:
        sink.close()
        history.close()
        box.close()
    return BackfillProgress(id=job.id, since=job.since, until=job.until, sent=job.sent, total=job.total, done=True,
                            resumed=resumed)


def _tags(path: Path) -> Any:
    from bms.clock import WallClock
    from bms.export import TagMap
    from bms.model import NodeStore

    if not (path / "nodes.db").exists():
        return TagMap()
    store = NodeStore(path / "nodes.db", WallClock())
    try:
        return TagMap(store.all())
    finally:
        store.close()
