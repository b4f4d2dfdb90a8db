"""`bms sim` / `bms-sim`: serve a scenario's devices, stop on a signal; grouping and errors."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from pymodbus.client import ModbusTcpClient

import bms.cli._sim  # noqa: F401  (registers `bms sim` until bms.cli imports it)
from bms.cli._app import cli
from bms.config import load_scenario
from bms.sim.cli import bacnet_devices, modbus_servers
from tests.conftest import ROOT

DEMO = ROOT / "conf" / "scenarios" / "demo.toml"
BMS_SIM = [sys.executable, "-c", "import bms.cli._sim; from bms.cli import main; main()", "sim"]
BMS_SIM_SCRIPT = [str(Path(sys.executable).parent / "bms-sim")]


class Served:
    """A `bms sim ...` process whose stdout lines arrive on a queue."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, text: str, timeout: float = 20.0) -> list[str]:
        seen: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s; got {seen}") from None
            seen.append(line)
            if text in line:
                return seen

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(f'profile_dirs = ["{ROOT / "conf" / "profiles"}"]\n[site]\nid = "s"\nname = "S"\n{body}')
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("argv", "sig"), [(BMS_SIM, signal.SIGTERM), (BMS_SIM_SCRIPT, signal.SIGINT)],
                         ids=["bms-sim-modbus-sigterm", "bms-sim-script-sigint"])
def test_sim_modbus_serves_the_demo_meter_until_signalled(argv: list[str], sig: int) -> None:
    served = Served([*argv, "modbus", "--port", "0"])
    try:
        lines = served.until("serving")
        (unit_line,) = [line for line in lines if line.startswith("modbus ")]
        assert unit_line.endswith("unit 1: meter1 (power-meter, ABCD)")
        port = int(unit_line.split()[1].rsplit(":", 1)[1])
        client = ModbusTcpClient("127.0.0.1", port=port, timeout=3)
        try:
            assert client.connect()  # type: ignore[no-untyped-call]
            reply = client.read_holding_registers(202, count=2, device_id=1)  # ct_primary, demand_interval
            assert not reply.isError() and list(reply.registers) == [400, 15]
        finally:
            client.close()  # type: ignore[no-untyped-call]
        assert served.stop(sig) == 0
    finally:
        served.close()


def test_sim_bacnet_serves_the_scenarios_devices_until_signalled(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    path = scenario(tmp_path, f"""
[networks.bacnet.main]
address = "127.0.0.1/8:{free_port(socket.SOCK_DGRAM)}"
device_port = {port}

[[devices]]
id = "vav9"
profile = "vav"
protocol = "bacnet"
network = "main"
address = "127.0.0.61"
device_instance = 9101
""")
    served = Served([*BMS_SIM, "bacnet", "--scenario", str(path)])
    try:
        lines = served.until("serving")
        assert f"bacnet 127.0.0.61:{port} device 9101: vav9 (vav)" in lines
        assert served.stop(signal.SIGINT) == 0
    finally:
        served.close()


def test_a_taken_port_is_one_line_and_exit_1() -> None:
    runner = CliRunner()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        result = runner.invoke(cli, ["sim", "modbus", "--port", str(port)])
    assert result.exit_code == 1
    assert f"error: 127.0.0.1:{port}/tcp is in use by this process" in result.output  # before serving anything
    assert "Traceback" not in result.output


def test_bad_scenarios_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["sim", "modbus", "--scenario", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 1 and "nope.toml: file not found" in missing.output
    empty = scenario(tmp_path, "")
    none = runner.invoke(cli, ["sim", "modbus", "--scenario", str(empty)])
    assert none.exit_code == 1 and "no Modbus TCP devices to simulate" in none.output
    none = runner.invoke(cli, ["sim", "bacnet", "--scenario", str(empty)])
    assert none.exit_code == 1 and "no BACnet devices to simulate" in none.output


def test_servers_group_devices_by_address_and_name_what_they_leave_out(tmp_path: Path) -> None:
    devices = "".join(
        f'[[devices]]\nid = "{dev}"\nprofile = "power-meter"\nprotocol = "modbus"\nhost = "127.0.0.1"\n'
        f'port = {port}\nunit_id = {unit}\norder = "{order}"\n{extra}\n'
        for dev, port, unit, order, extra in [
            ("a", 1502, 1, "ABCD", ""), ("b", 1502, 2, "CDAB", ""), ("c", 1503, 1, "ABCD", ""),
            ("d", 1503, 1, "ABCD", ""), ("off", 1504, 1, "ABCD", "enabled = false"),
        ])
    rtu = ('[networks.modbus.bus]\nkind = "rtu"\nserial_port = "/dev/ttyUSB0"\n'
           '[[devices]]\nid = "r"\nprofile = "power-meter"\nprotocol = "modbus"\nnetwork = "bus"\n')
    site = load_scenario(scenario(tmp_path, rtu + devices))
    servers, notes = modbus_servers(site)
    assert [(s.address, dict(s.devices), dict(s.orders)) for s in servers] == [
        ("127.0.0.1:1502", {1: "a", 2: "b"}, {1: "ABCD", 2: "CDAB"}),
        ("127.0.0.1:1503", {1: "c"}, {1: "ABCD"}),
    ]
    assert notes == ["r: RTU device, not simulated (the simulator serves Modbus TCP)",
                     "d: unit 1 on 127.0.0.1:1503 is already c; not simulated"]
    (merged,), notes = modbus_servers(site, host="127.0.0.9", port=0)
    assert merged.address == "127.0.0.9:0" and dict(merged.devices) == {1: "a", 2: "b"}
    assert "c: unit 1 on 127.0.0.9:0 is already a; not simulated" in notes
    by_port, _ = bacnet_devices(load_scenario(DEMO))
    assert [(d.device_id, d.address) for d in by_port[47808]][:2] == [("ahu1", "127.0.0.2"), ("vav101", "127.0.0.3")]
