"""`bms devices probe modbus HOST`: unit ids answering at an address, against the real simulator."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from actors.components.sim_modbus import ModbusSimulatorThread
from bms.cli import cli
from bms.cli._probe import parse_units
from bms.config import load_profile
from bms.errors import ConfigError
from bms.sim.modbus import ModbusSimulator
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def meter() -> Iterator[ModbusSimulatorThread]:
    profile, _ = load_profile(ROOT / "conf/profiles/power-meter.toml")
    assert profile is not None
    with ModbusSimulatorThread(ModbusSimulator({1: profile, 3: profile}, "127.0.0.1", 0)) as sim:
        yield sim


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def test_the_units_that_answer_with_their_identification(meter: ModbusSimulatorThread) -> None:
    code, out, err = run("devices", "probe", "modbus", "127.0.0.1", "--port", str(meter.port), "--units", "1-4",
                         "--json")
    assert code == 0, err
    found = json.loads(out)
    assert [u["unit_id"] for u in found] == [1, 3]
    assert found[0]["vendor"] == "bms" and found[0]["product_code"]
    code, out, _ = run("devices", "probe", "modbus", "127.0.0.1", "--port", str(meter.port), "--units", "1")
    assert code == 0 and "Modbus units at 127.0.0.1" in out and "bms" in out


def test_nothing_listening_is_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the probe: nothing listens there
    code, _out, err = run("devices", "probe", "modbus", "127.0.0.1", "--port", str(port))
    assert code == 1
    assert err.strip().splitlines() == [f"error: cannot connect to 127.0.0.1:{port}"]


@pytest.mark.parametrize(("text", "units"), [("1", [1]), ("1-3", [1, 2, 3]), ("5,1-2,2", [1, 2, 5]), ("0-0", [0])])
def test_unit_lists(text: str, units: list[int]) -> None:
    assert parse_units(text) == units


@pytest.mark.parametrize(("text", "problem"), [("5-x", "'5-x' is not a unit id"), ("9-2", "low before high"),
                                               ("300", "within 0..247")])
def test_bad_unit_lists_name_the_part(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_units(text)
    code, _out, err = run("devices", "probe", "modbus", "127.0.0.1", "--units", text)
    assert code == 1 and problem.split("'")[0] in err and "Traceback" not in err
