"""Commands that come from outside ``bms.cli``: components' and the ``bms.commands`` group's.

Loaded on first use, once per process: ``bms points list`` never reads a
descriptor, ``bms --help`` and an unknown word read them all. A component
whose descriptor cannot be loaded contributes nothing (``bms status`` and
``bms config check`` say why).
"""

from __future__ import annotations

from functools import cache

import click

from bms.components import installed, installed_commands


@cache
def _registered() -> dict[str, object]:
    """name -> an unloaded entry point of ``bms.commands``."""
    commands, _ = installed_commands()
    return dict(commands)


@cache
def component_commands() -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for comp in installed().components:
        if comp.commands is not None:
            for command in comp.commands():
                if command.name:
                    found.setdefault(command.name, command)
    return found


@cache
def shell_words() -> dict[str, click.Command]:
    """Words the components give the shell only."""
    found: dict[str, click.Command] = {}
    for comp in installed().components:
        if comp.shell is not None:
            for command in comp.shell():
                if command.name:
                    found.setdefault(command.name, command)
    return found


@cache
def toolbar_parts() -> list[object]:
    """The components' ``toolbar(client) -> str`` functions, for the shell's bottom toolbar."""
    return [comp.toolbar for comp in installed().components if comp.toolbar is not None]


def command_names() -> list[str]:
    return sorted({*_registered(), *component_commands()})


def find_command(name: str) -> click.Command | None:
    entry = _registered().get(name)
    if entry is not None:
        command = entry.load()  # type: ignore[attr-defined]
        if isinstance(command, click.Command):
            return command
    return component_commands().get(name)
