"""structlog set-up: JSON lines in the daemon, readable on a terminal.

Every actor logs through ``get_logger(name)``, which binds ``actor=name``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR,
           "critical": logging.CRITICAL}


def configure(level: str = "info", fmt: str = "auto", file: str | None = None) -> None:
    """Configure structlog (and stdlib logging of libraries) once per process."""
    stream: TextIO = open(file, "a", buffering=1, encoding="utf-8") if file else sys.stderr  # noqa: SIM115
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if use_json:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors += [structlog.dev.ConsoleRenderer(colors=stream.isatty())]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(stream=stream, level=max(_LEVELS.get(level, logging.INFO), logging.WARNING), force=True)
    quiet_libraries(level)


def set_level(level: str) -> None:
    """Change the level at run time (the shell's ``debug on|off``)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)))
    quiet_libraries(level)


PROTOCOL_LIBRARIES = ("pymodbus", "bacpypes3")


def quiet_libraries(level: str = "info") -> None:
    """The protocol libraries' own log lines only when debugging.

    The bridges translate every library error into a device fault, a
    DeviceDown or a one-line CLI error naming the device; pymodbus would
    otherwise add its own line ("Failed to connect ...") for each attempt.
    """
    for name in PROTOCOL_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.CRITICAL)


def get_logger(name: str) -> Any:
    return structlog.get_logger().bind(actor=name)
