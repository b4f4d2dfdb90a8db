"""Run one line typed at the prompt; whatever goes wrong is one line, never a traceback."""

from __future__ import annotations

import shlex

import click
from rich.markup import escape

from bms.cli._app import console, err_console
from bms.errors import BmsError
from bms.shell._session import ShellSession
from bms.shell._vocabulary import vocabulary


def split_line(text: str) -> list[str]:
    """The words of a line as a POSIX shell splits them; ``\\`` at a line's end joins the next."""
    return shlex.split(text.replace("\\\n", " "))


def run_line(text: str, session: ShellSession) -> bool:
    """Run the command on ``text`` in the session; report any failure in one line.

    Returns False when the command failed (an empty line succeeds).
    """
    try:
        args = split_line(text)
    except ValueError as err:
        _error(f"cannot read the line: {err}")
        return False
    if not args:
        return True
    try:
        vocabulary.main(args, prog_name="", standalone_mode=False, obj=session, complete_var="_BMS_SHELL_COMPLETE")
        return True
    except click.exceptions.NoArgsIsHelpError as err:
        console.print(err.format_message(), markup=False, highlight=False)
        return True
    except click.exceptions.NoSuchCommand as err:
        _error(f"{err.format_message()} Type 'help' for the commands.")
    except click.UsageError as err:
        where = err.ctx.command_path.strip() if err.ctx is not None else ""
        _error(err.format_message() + (f" (see 'help {where}')" if where else ""))
    except click.ClickException as err:
        _error(err.format_message())
    except (click.Abort, KeyboardInterrupt):
        _error("interrupted")
    except SystemExit as done:
        return done.code in (0, None)  # a failing command has already said why, in one line
    except BmsError as err:
        _error(str(err))
    except Exception as err:  # a bug must not end the operator's session
        _error(f"{type(err).__name__}: {err}")
    return False


def _error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
