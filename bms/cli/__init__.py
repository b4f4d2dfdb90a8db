"""The ``bms`` command line: thin commands that parse, call and render."""

from bms.cli import _config, _daemon, _devices, _history, _points, _probe, _shell, _sim, _status  # noqa: F401  (register commands)
from bms.cli._app import cli
from bms.logs import quiet_libraries


def main() -> None:
    quiet_libraries()  # commands report library errors as one line of their own
    cli(prog_name="bms")


__all__ = ["cli", "main"]
