"""`bms devices probe modbus HOST`: unit ids answering at an address, against the real simulator."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

import bms.cli._probe as probe_cli
from actors.components.sim_modbus import ModbusSimulatorThread
from bms.bacnet import DiscoveryStore
from bms.bacnet._accept import read_pending
from bms.cli import cli
from bms.cli._app import console
from bms.cli._probe import parse_units
from bms.cli._scan import ScanBars
from bms.config import ModbusBinding, PointSpec, Profile, load_profile
from bms.errors import ConfigError
from bms.messages import DeviceRecord, DiscoveryProgress
from bms.sim.modbus import ModbusSimulator
from tests.conftest import ROOT

PLAIN = Profile(name="plain", protocol="modbus", vendor="acme", model="X1", points=[
    PointSpec(key="sp", name="Setpoint", writable=True, modbus=ModbusBinding(table="holding", address=0, type="int16"))])


@pytest.fixture(scope="module")
def meter() -> Iterator[ModbusSimulatorThread]:
    """Unit 1: a power meter (no register at 0 in either table); 3: a meter too; 5: holding 0 but no input 0;
    6: the same, without FC43."""
    profile, _ = load_profile(ROOT / "conf/profiles/power-meter.toml")
    assert profile is not None
    units = {1: profile, 3: profile, 5: PLAIN, 6: PLAIN}
    with ModbusSimulatorThread(ModbusSimulator(units, "127.0.0.1", 0, unidentified=[6])) as sim:
        yield sim


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(f'''profile_dirs = ["{ROOT / "conf/profiles"}"]

[site]
id = "lab"
name = "Lab"
''')
    return path


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def test_the_units_that_answer_with_their_identification(meter: ModbusSimulatorThread, tmp_path: Path) -> None:
    code, out, err = run("devices", "probe", "modbus", "127.0.0.1", "--port", str(meter.port), "--units", "1-6",
                         "--json", "--data", str(tmp_path))
    assert code == 0, err
    found = {u["unit_id"]: u for u in json.loads(out)}
    assert sorted(found) == [1, 3, 5, 6]
    assert found[1]["device_id"] == f"modbus:127.0.0.1:{meter.port}:1"
    assert (found[1]["vendor"], found[1]["model"], found[1]["identification"]) == ("bms", "PM-3100",
                                                                                    "bms PM-3100 0.1.0")
    assert found[1]["registers"] == []  # a healthy meter: nothing lives at 0, which is no "exception 2" verdict
    assert (found[5]["registers"], found[5]["identification"]) == (["holding 0"], "acme X1 0.1.0")
    assert (found[6]["registers"], found[6]["identification"]) == (["holding 0"], "no identification")
    assert found[5]["reason"] == "input 0: exception 2 (illegal data address)"
    code, out, _ = run("devices", "probe", "modbus", "127.0.0.1", "--port", str(meter.port), "--units", "5-6",
                       "--data", str(tmp_path))
    assert code == 0 and "Modbus units at 127.0.0.1" in out and "no identification" in out and "holding 0" in out


def test_probed_units_are_kept_and_accepted_with_a_profile(meter: ModbusSimulatorThread, tmp_path: Path,
                                                           scenario: Path) -> None:
    common = ["--data", str(tmp_path / "data"), "--scenario", str(scenario)]
    unit = f"modbus:127.0.0.1:{meter.port}"
    assert run("devices", "probe", "modbus", "127.0.0.1", "--port", str(meter.port), "--units", "1,5,6",
               *common)[0] == 0
    table = [
        (("devices", "list", "--protocol", "modbus", "--json"), 0, f"{unit}:5"),
        (("devices", "show", f"{unit}:6"), 0, "no identification"),
        (("devices", "accept", f"{unit}:1"), 1, "accepted with a profile naming its registers (--profile NAME)"),
        (("devices", "accept", f"{unit}:1", "--profile", "vav"), 1, "profile 'vav' is for bacnet, not modbus"),
        (("devices", "accept", f"{unit}:1", "--profile", "power-meter"), 0, "created when the daemon next starts"),
        (("devices", "ignore", f"{unit}:6"), 0, "Ignored"),
        (("devices", "accept", f"{unit}:9", "--profile", "power-meter"), 1, "no probe found it"),
    ]
    for args, code, text in table:
        got, out, err = run(*args, *common)
        assert (got, text in " ".join((out + err).split())) == (code, True), (args, out, err)
    with DiscoveryStore(tmp_path / "data" / "discovery.db") as store:
        assert {u.unit_id: u.state for u in store.units.units()} == {1: "Accepted", 5: "Discovered", 6: "Ignored"}
    assert [(p.key, p.profile) for p in read_pending(tmp_path / "data")] == [(f"{unit}:1", "power-meter")]


def test_a_terminal_shows_unit_ids_tried_of_how_many(meter: ModbusSimulatorThread, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[DiscoveryProgress] = []

    class Recorded(ScanBars):
        def show(self, event: DiscoveryProgress) -> None:
            super().show(event)
            shown.append(event)

    monkeypatch.setattr(probe_cli, "ScanBars", Recorded)
    code, _, err = run("devices", "probe", "modbus", "127.0.0.1", "--port", str(meter.port), "--units", "1-4",
                       "--data", str(tmp_path))
    assert code == 0, err
    assert [(e.task, e.done, e.total, e.devices) for e in shown] == [
        ("unit ids tried", 1, 4, 1), ("unit ids tried", 2, 4, 1), ("unit ids tried", 3, 4, 2),
        ("unit ids tried", 4, 4, 2)]
    shown.clear()
    code, out, _ = run("devices", "probe", "modbus", "127.0.0.1", "--port", str(meter.port), "--units", "1-4",
                       "--data", str(tmp_path), "--json")
    assert code == 0 and shown == [] and json.loads(out)  # nothing but the JSON


def test_the_bar_has_its_count() -> None:
    recording = Console(record=True, width=100, force_terminal=True)
    with probe_cli.probe_bar(recording) as bar:
        bars = ScanBars(bar, probe=True)
        bars.show(DiscoveryProgress(scan="s", network="h:1", task="unit ids tried", done=3, total=10, ts=1.0,
                                    devices=2))
        assert [t.description for t in bar.tasks] == ["2 units answered", "unit ids tried"]
        assert (bar.tasks[1].completed, bar.tasks[1].total) == (3, 10)


def test_with_a_daemon_the_probe_runs_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    class Client:
        def discover(self, *args: Any, **kwargs: Any) -> list[DeviceRecord]:
            calls.append((args, {k: v for k, v in kwargs.items() if k != "progress"}))
            return [DeviceRecord(device_id="modbus:10.0.0.9:502:2", protocol="modbus", address="10.0.0.9:502",
                                 state="Discovered", unit_id=2, identification="no identification")]

    monkeypatch.setattr(probe_cli, "_daemon_running", lambda path: True)
    monkeypatch.setattr(probe_cli, "connect", lambda data: Client())
    code, out, _ = run("devices", "probe", "modbus", "10.0.0.9", "--units", "1-3", "--data", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)[0]["device_id"] == "modbus:10.0.0.9:502:2"
    assert calls == [(("modbus",), {"timeout": 0.5, "network": "10.0.0.9:502", "units": [1, 2, 3]})]


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
