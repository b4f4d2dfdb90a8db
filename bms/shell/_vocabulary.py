"""The shell's vocabulary: the CLI's own commands plus the shell's.

:class:`ShellGroup` looks a word up among the shell's commands first, then
among the ``bms`` commands (except those that make no sense inside the
shell), so the shell runs the very click commands of the CLI and the two
vocabularies cannot drift.
"""

from __future__ import annotations

import click

from bms.cli import cli
from bms.cli._app import BmsGroup
from bms.cli._plugins import shell_words

#: ``bms`` commands the shell does not offer.
NOT_IN_SHELL = frozenset({"daemon", "shell"})


class ShellGroup(BmsGroup):
    """A group whose commands are its own plus those of ``base``."""

    def __init__(self, base: click.Group, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.base = base

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = super().get_command(ctx, cmd_name) or shell_words().get(cmd_name)
        if own is not None or cmd_name in NOT_IN_SHELL:
            return own
        return self.base.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        base = set(self.base.list_commands(ctx)) - NOT_IN_SHELL
        return sorted(base | set(super().list_commands(ctx)) | set(shell_words()))

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as err:  # suggest among every command, not only the shell's own
            raise click.exceptions.NoSuchCommand(err.command_name, possibilities=self.list_commands(ctx), ctx=ctx) from None


@click.group(cls=ShellGroup, base=cli, context_settings={"help_option_names": ["-h", "--help"]})
def vocabulary() -> None:
    """Commands of the bms shell."""
