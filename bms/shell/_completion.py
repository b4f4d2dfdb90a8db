"""Tab completion from the click commands themselves: words, options, choices, point ids."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import click
from click.shell_completion import ShellComplete
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from bms.errors import BmsError


def candidates(group: click.Group, obj: object, text: str) -> tuple[str, list[str]]:
    """The word being typed at the end of ``text`` and what may complete it.

    Resolved by click's own completion over ``group`` with ``obj`` as the
    context object, so point ids come from the session's ``PointId`` params.
    """
    text = text.replace("\\\n", " ")
    try:
        words = shlex.split(text)
    except ValueError:  # an open quote: nothing sensible to offer
        return "", []
    incomplete = words.pop() if words and not text[-1:].isspace() else ""
    if not _commands_known(group, words):
        return incomplete, []
    completer = ShellComplete(group, {"obj": obj}, "", "_BMS_SHELL_COMPLETE")
    try:
        items = completer.get_completions(words, incomplete)
    except (click.ClickException, BmsError):
        return incomplete, []
    return incomplete, [item.value for item in items if item.type == "plain"]


def _commands_known(group: click.Group, words: list[str]) -> bool:
    """False when a word meant as a (sub)command names none: nothing then completes."""
    command: click.Command = group
    for word in words:
        if not isinstance(command, click.Group):
            return True
        if word.startswith("-"):
            continue
        found = command.get_command(click.Context(command), word)
        if found is None:
            return False
        command = found
    return True


class CommandCompleter(Completer):
    """prompt_toolkit's view of :func:`candidates`."""

    def __init__(self, group: click.Group, obj: object) -> None:
        self.group = group
        self.obj = obj

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        incomplete, found = candidates(self.group, self.obj, document.text_before_cursor)
        for value in found:
            yield Completion(value, start_position=-len(incomplete))
