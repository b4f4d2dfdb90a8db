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
    """Configure structlog (and stdlib logging of libraries) once per process.

    Library log lines (pymodbus, bacpypes3, uvicorn, ...) go through the
    same processors and renderer as ours: with the JSON format every line
    the process writes is one JSON object.
    """
    stream: TextIO = open(file, "a", buffering=1, encoding="utf-8") if file else sys.stderr  # noqa: SIM115
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if use_json:
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    logging.basicConfig(handlers=[handler], level=max(_LEVELS.get(level, logging.INFO), logging.WARNING), force=True)
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
