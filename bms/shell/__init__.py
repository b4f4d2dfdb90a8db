"""``bms shell``: the operator's REPL on a running daemon.

It speaks the CLI's vocabulary without the ``bms`` prefix (the very same
click commands, see :mod:`bms.shell._vocabulary`) plus ``watch``, ``trend``,
``debug``, ``help`` and ``exit``. A failing command prints one line and the
prompt comes back; nothing typed at the prompt ends the shell but ``exit``,
``quit`` or Ctrl-D.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bms.errors import BmsError
from bms.shell import _commands, _watch  # noqa: F401  (register the shell's commands)
from bms.shell._completion import CommandCompleter, candidates
from bms.shell._dispatch import run_line, split_line
from bms.shell._repl import HISTORY_NAME, PROMPT, loop, script
from bms.shell._session import ShellSession
from bms.shell._vocabulary import ShellGroup, vocabulary

if TYPE_CHECKING:
    from bms.client import ApiClient


def run(client: ApiClient, data_dir: Path) -> int:
    """Read and run commands on ``client`` until the operator leaves; the exit code.

    On a terminal this is the interactive prompt; with commands piped in, it
    runs them in order and exits 1 if any of them failed.
    """
    from bms.cli._app import console

    session = ShellSession(client, data_dir)
    if not sys.stdin.isatty():
        return 0 if script(session, sys.stdin) else 1
    count = len(session.point_ids())
    try:
        me = client.whoami()
        session.who = me.user
        as_whom = f" as {me.user} ({me.role.name})"
    except BmsError:
        as_whom = ""
    console.print(f"bms shell on {data_dir}{as_whom}: {count} point(s). "
                  "Type 'help' for the commands, Tab to complete, 'exit' or Ctrl-D to leave.", highlight=False, markup=False)
    loop(session)
    return 0


__all__ = [
    "HISTORY_NAME",
    "PROMPT",
    "CommandCompleter",
    "ShellGroup",
    "ShellSession",
    "candidates",
    "loop",
    "run",
    "run_line",
    "script",
    "split_line",
    "vocabulary",
]
