"""The state of one shell session: the daemon connection and whether to leave."""

from __future__ import annotations

from bms.cli._common import Connection


class ShellSession(Connection):
    """The click context object of every command the shell runs.

    Commands find the shared client through :class:`Connection`; ``exit``
    sets ``done`` and the prompt loop ends.
    """

    done: bool = False
    who: str = ""  # the user the shell acts as, shown in the prompt ("alice@bms> ")
