"""The shell's own commands: help, exit/quit, debug and trend."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from bms.api import LogLevel, Rollup
from bms.cli._app import console
from bms.cli._common import POINT_ID, connect, naming_point
from bms.cli._history import chart_of, since_option
from bms.shell._session import ShellSession
from bms.shell._vocabulary import vocabulary

FOOTER = ("Tab completes commands, options and point ids; a line ending with \\ continues on the next. "
          "Ctrl-C interrupts a command, Ctrl-D or 'exit' leaves.")


@vocabulary.command("help")
@click.argument("words", nargs=-1, metavar="[COMMAND]...")
@click.pass_context
def help_(ctx: click.Context, words: tuple[str, ...]) -> None:
    """List the commands, or explain one: help point write."""
    root = ctx.find_root()
    if not words:
        console.print(commands_table(root))
        console.print(FOOTER, markup=False, highlight=False)
        return
    sub = root
    for word in words:
        group = sub.command
        found = group.get_command(sub, word) if isinstance(group, click.Group) else None
        if found is None:
            raise click.UsageError(f"no command {' '.join(words)!r}; type 'help' for the commands")
        sub = found.make_context(word, [], parent=sub, resilient_parsing=True)
    console.print(sub.get_help(), markup=False, highlight=False)


def commands_table(root: click.Context) -> Table:
    """Every command the shell runs, with its arguments and what it does."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for usage, text in _leaves(root):
        table.add_row(Text(usage), Text(text))
    return table


def _leaves(ctx: click.Context) -> list[tuple[str, str]]:
    group = ctx.command
    rows: list[tuple[str, str]] = []
    assert isinstance(group, click.Group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        sub = cmd.make_context(name, [], parent=ctx, resilient_parsing=True)
        if isinstance(cmd, click.Group):
            rows.extend(_leaves(sub))
        else:
            pieces = [p for p in cmd.collect_usage_pieces(sub) if p != "[OPTIONS]"]
            rows.append((" ".join([sub.command_path.strip(), *pieces]), cmd.get_short_help_str(limit=150)))
    return rows


@vocabulary.command("exit")
@click.pass_obj
def exit_(session: ShellSession) -> None:
    """Leave the shell (also: quit, Ctrl-D)."""
    session.done = True


@vocabulary.command("quit", hidden=True)
@click.pass_obj
def quit_(session: ShellSession) -> None:
    """Leave the shell."""
    session.done = True


@vocabulary.command("debug")
@click.argument("switch", type=click.Choice(["on", "off"]))
def debug(switch: str) -> None:
    """Switch the daemon's debug logging on or off."""
    level: LogLevel = "debug" if switch == "on" else "info"
    connect(None).set_log_level(level)
    console.print(f"daemon log level is now {level}", highlight=False)


@vocabulary.command("trend")
@click.argument("point_id", metavar="ID", type=POINT_ID)
@since_option
def trend(point_id: str, start: float, end: float, rollup: Rollup) -> None:
    """Chart the history of point ID (default: the last hour)."""
    client = connect(None)
    with naming_point(client, point_id):
        series = client.history(point_id, start, end, rollup, None)
        point = client.point(point_id)
    chart = chart_of(client, series, point, console.width, height=max(10, min(25, console.height - 4)))
    if chart is None:
        console.print(f"{point_id}: no numeric values between the times asked", markup=False, highlight=False)
    else:
        console.print(Text.from_ansi(chart), no_wrap=True, crop=True)
