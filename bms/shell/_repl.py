"""The prompt loop: history file, completion, ``\\`` continuation lines."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from bms.cli._plugins import toolbar_parts
from bms.shell._completion import CommandCompleter
from bms.shell._dispatch import run_line
from bms.shell._session import ShellSession
from bms.shell._vocabulary import vocabulary

PROMPT = "bms> "
CONTINUATION = "...  "
HISTORY_NAME = "shell_history"


def continuation_bindings() -> KeyBindings:
    """Enter after a trailing backslash starts a new line instead of running the command."""
    bindings = KeyBindings()

    @Condition
    def continued() -> bool:
        from prompt_toolkit.application import get_app

        return get_app().current_buffer.document.text_before_cursor.endswith("\\")

    @bindings.add("enter", filter=continued)
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


def prompt_session(session: ShellSession, history_file: Path) -> PromptSession[str]:
    """The prompt_toolkit session of the shell."""
    return PromptSession(
        history=FileHistory(str(history_file)),
        completer=CommandCompleter(vocabulary, session),
        complete_while_typing=False,
        key_bindings=continuation_bindings(),
        prompt_continuation=CONTINUATION,
        bottom_toolbar=lambda: toolbar(session),
    )


def toolbar(session: ShellSession) -> str | None:
    """What the components say of the site (``alarms: 2 unacknowledged``), read before each prompt.

    A component that cannot answer (no daemon, an older one) says nothing.
    """
    parts: list[str] = []
    for part in toolbar_parts():
        try:
            parts.append(part(session.client))  # type: ignore[operator]
        except Exception:
            continue
    return " | ".join(parts) or None


def loop(session: ShellSession) -> None:
    """Read and run lines until ``exit``, ``quit`` or Ctrl-D; Ctrl-C clears the line."""
    prompt = prompt_session(session, session.data_dir / HISTORY_NAME)
    while not session.done:
        try:
            text = prompt.prompt(f"{session.who}@{PROMPT}" if session.who else PROMPT)
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        run_line(text, session)


def script(session: ShellSession, lines: Iterable[str]) -> bool:
    """Run lines read from a pipe or file (``\\`` continues a line); False if any command failed."""
    ok = True
    pending = ""
    for raw in lines:
        line = raw.rstrip("\n")
        if line.endswith("\\"):
            pending += line + "\n"
            continue
        ok = run_line(pending + line, session) and ok
        pending = ""
        if session.done:
            break
    if pending and not session.done:
        ok = run_line(pending, session) and ok
    return ok
