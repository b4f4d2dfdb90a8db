"""The root ``bms`` group, shared options and the one-line error handler."""

from __future__ import annotations

import sys
from typing import Any

import click
import msgspec
from rich.console import Console

from bms import __version__
from bms.errors import BmsError

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> None:
    """Print one red line and exit 1."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(1)


def print_json(data: Any) -> None:
    """Machine-readable output for --json (msgspec Structs included)."""
    click.echo(msgspec.json.format(msgspec.json.encode(data), indent=2))


class BmsGroup(click.Group):
    """Turns BmsError into one red line and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BmsError as err:
            problems = getattr(err, "problems", None)
            if problems and len(problems) > 1:
                for line in problems:
                    err_console.print(f"[red]{line}[/]", highlight=False, soft_wrap=True)
            fail(str(err) if not problems or len(problems) > 1 else problems[0])
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)


class RootGroup(BmsGroup):
    """``bms``: its own commands, then those registered by the actor layer and the installed components."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = super().get_command(ctx, cmd_name)
        if own is not None:
            return own
        from bms.cli._plugins import find_command

        return find_command(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        from bms.cli._plugins import command_names

        return sorted({*super().list_commands(ctx), *command_names()})


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="bms")
def cli() -> None:
    """bms: building-management supervisory runtime.

    Commission a site from the terminal, run it 24/7 with `bms daemon`, and
    operate it with `bms shell`.
    """
