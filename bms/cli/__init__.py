"""The ``bms`` command line: thin commands that parse, call and render."""

from bms.cli import _config, _daemon, _devices, _history, _points, _shell, _sim, _status  # noqa: F401  (register commands)
from bms.cli._app import cli


def main() -> None:
    cli(prog_name="bms")


__all__ = ["cli", "main"]
