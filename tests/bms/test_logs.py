"""The daemon's log: with the JSON format every line is JSON, the libraries' lines included."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bms.logs import configure, get_logger, set_level


@pytest.fixture
def restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    libraries = {name: logging.getLogger(name).level for name in ("pymodbus", "bacpypes3")}
    yield
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and str(getattr(handler.stream, "name", "")).endswith("bms.log"):
            handler.stream.close()  # the file configure() opened
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lib_level in libraries.items():
        logging.getLogger(name).setLevel(lib_level)
    structlog.reset_defaults()


def test_debug_on_keeps_every_line_json(tmp_path: Path, restored: None) -> None:
    log = tmp_path / "bms.log"
    configure("info", "json", str(log))
    set_level("debug")  # the shell's `debug on`: the protocol libraries speak
    get_logger("points").info("write", point_id="ahu1/sat_sp")
    logging.getLogger("pymodbus.logging").debug("send: 0x1 0x3 %s", "0x0")
    logging.getLogger("uvicorn.error").warning("Started server process")
    try:
        raise OSError("no route to host")
    except OSError:
        logging.getLogger("bacpypes3.ipv4").exception("send failed")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["event"], e["level"]) for e in lines] == [
        ("write", "info"), ("send: 0x1 0x3 0x0", "debug"), ("Started server process", "warning"),
        ("send failed", "error")]
    assert lines[1]["logger"] == "pymodbus.logging" and "OSError: no route to host" in lines[3]["exception"]
    assert all("timestamp" in e for e in lines)
