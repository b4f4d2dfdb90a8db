"""The root ``bms`` group, shared options and the one-line error handler.

Every error, a usage mistake (a bad option value, a missing argument) as
much as a refusal by the daemon, is one red line ``error: ...`` on stderr
and exit code 1; with ``--json`` on the command line it is
``{"error": "..."}`` on stderr instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click
import msgspec
from rich.console import Console
from rich.markup import escape

from bms import __version__
from bms.errors import BmsError

console = Console()
err_console = Console(stderr=True)
_JSON_KEY = "bms.json"


def fail(message: str, problems: Sequence[str] = (), as_json: bool = False) -> NoReturn:
    """Print one red line (``{"error": ...}`` under ``--json``) and exit 1."""
    if as_json or _json_wanted():
        body: dict[str, Any] = {"error": message}
        if problems:
            body["problems"] = list(problems)
        click.echo(msgspec.json.encode(body).decode(), err=True)
    else:
        for line in problems:
            err_console.print(f"[red]{escape(line)}[/]", highlight=False, soft_wrap=True)
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(1)


def _json_wanted() -> bool:
    """Whether ``--json`` was given to the running command (or is on its command line)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json") or ctx.meta.get(_JSON_KEY):
            return True
        ctx = ctx.parent
    return False


def usage_line(err: click.UsageError) -> str:
    """A usage mistake in one line, naming the option or argument, and where to read more."""
    where = err.ctx.command_path if err.ctx is not None else ""
    hint = f" (see '{where} --help')" if where and err.ctx is not None and err.ctx.command is not None else ""
    return " ".join(err.format_message().split()) + hint


def print_json(data: Any) -> None:
    """Machine-readable output for --json (msgspec Structs included)."""
    click.echo(msgspec.json.format(msgspec.json.encode(data), indent=2))


class BmsGroup(click.Group):
    """Turns BmsError into one red line and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        args = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # the subcommand's, gone from ctx once it ran
        as_json = "--json" in (args[:args.index("--")] if "--" in args else args)
        try:
            return super().invoke(ctx)
        except BmsError as err:
            problems = getattr(err, "problems", None)
            if problems and len(problems) > 1:
                fail(str(err), problems, as_json)
            fail(str(err) if not problems else problems[0], as_json=as_json)
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)


class RootGroup(BmsGroup):
    """``bms``: its own commands, then those registered by the actor layer and the installed components.

    Usage errors are one line and exit 1 like every other error (click's
    own would be a usage block and exit 2); ``--help`` and ``--version``
    still print and exit 0.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, False, **extra)
        wants_json = "--json" in (argv[:argv.index("--")] if "--" in argv else argv)
        with click.Context(self, info_name=prog_name) as outer:
            outer.meta[_JSON_KEY] = wants_json
            try:
                super().main(argv, prog_name, complete_var, False, **extra)
            except click.exceptions.Exit as done:
                sys.exit(done.exit_code)
            except click.UsageError as err:
                fail(usage_line(err))
            except click.ClickException as err:
                fail(" ".join(err.format_message().split()))
            except click.Abort:
                err_console.print("interrupted")
                sys.exit(130)
        sys.exit(0)

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
@click.option("--user", "as_user", metavar="NAME",
              help="Act as this user on the daemon (prompts for the password); default: the token in "
                   "BMS_TOKEN, else the local admin's (api.token of the data directory).")
@click.pass_context
def cli(ctx: click.Context, as_user: str | None) -> None:
    """bms: building-management supervisory runtime.

    Commission a site from the terminal, run it 24/7 with `bms daemon`, and
    operate it with `bms shell`.
    """
    if as_user:
        ctx.find_root().meta["bms.user"] = as_user
