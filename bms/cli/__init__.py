"""The ``bms`` command line: thin commands that parse, call and render.

A component's own commands (``Component.commands``) use the same pieces:
``connect`` (the daemon's API client, shared inside the shell),
``data_option`` / ``json_option``, ``console`` / ``print_json`` to render
and ``fail`` for one red line and exit code 1.
"""

from bms.cli import _config, _devices, _history, _points, _probe, _shell, _sim, _status  # noqa: F401  (register commands)
from bms.cli._app import cli, console, fail, print_json
from bms.cli._common import connect, data_option, json_option
from bms.logs import quiet_libraries


def main() -> None:
    quiet_libraries()  # commands report library errors as one line of their own
    cli(prog_name="bms")


__all__ = ["cli", "connect", "console", "data_option", "fail", "json_option", "main", "print_json"]
