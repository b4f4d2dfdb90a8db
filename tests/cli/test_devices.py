"""``bms devices``: without a daemon against simulated devices, and through a daemon's client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import structlog
from click.testing import CliRunner
from rich.console import Console
from rich.progress import Progress

import bms.cli._devices as devices_cli
from actors.components.sim_bacnet import BacnetSimulatorThread
from bms.bacnet import DiscoveryStore
from bms.bacnet._accept import read_pending
from bms.cli._app import cli, console
from bms.cli._scan import ScanBars
from bms.messages import DeviceRecord, DiscoveryProgress
from bms.sim.bacnet import BacnetSimulator, SimDevice
from tests.bms.bacnet.loopback import free_port, host, profile

AHU_ID, VAV_ID = 5001, 5101


@pytest.fixture(scope="module")
def sim() -> Iterator[BacnetSimulatorThread]:
    devices = [SimDevice(AHU_ID, host(50), profile("ahu")), SimDevice(VAV_ID, host(51), profile("vav"))]
    running = BacnetSimulatorThread(BacnetSimulator(devices, free_port(), interval=None))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def site(tmp_path: Path, sim: BacnetSimulatorThread) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(f"""
[site]
id = "s"
name = "S"

[networks.bacnet.lan]
address = "127.0.0.1/8:{free_port()}"
device_port = {sim.simulator.device_port}
timeout = 0.5
retries = 0

[[devices]]
id = "ahu1"
profile = "ahu"
protocol = "bacnet"
network = "lan"
address = "{host(50)}"
device_instance = {AHU_ID}
""")
    return path


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_discover_list_show_accept_ignore_without_a_daemon(tmp_path: Path, site: Path) -> None:
    data = str(tmp_path / "data")
    common = ["--scenario", str(site), "--data", data]
    result = run("devices", "discover", "bacnet", "--range", "5000", "5999", "--timeout", "0.5", *common, "--json")
    assert result.exit_code == 0, result.output
    found = msgspec.json.decode(result.output, type=list[DeviceRecord])
    assert [(r.device_id, r.state) for r in found] == [("ahu1", "Configured"), ("bacnet:5101", "Discovered")]
    assert found[1].objects == len(profile("vav").points) + 1

    table = run("devices", "list", *common)
    assert table.exit_code == 0 and "bacnet:5101" in table.output and "Discovered" in table.output
    shown = run("devices", "show", "bacnet:5101", *common)
    assert shown.exit_code == 0 and "Damper command" in shown.output and "analog-output,1" in shown.output

    accepted = run("devices", "accept", "bacnet:5101", "--profile", "vav", "--equip-id", "box", *common)
    assert accepted.exit_code == 0, accepted.output
    assert "created when the daemon next starts" in " ".join(accepted.output.split())
    with DiscoveryStore(tmp_path / "data" / "discovery.db") as store:
        assert store.get(VAV_ID).state == "Accepted"
    assert [(p.instance, p.profile, p.equip_id) for p in read_pending(tmp_path / "data")] == [(VAV_ID, "vav", "box")]
    again = run("devices", "accept", "bacnet:5101", *common)
    assert again.exit_code == 1 and "already part of the site" in again.output
    configured = run("devices", "accept", "ahu1", *common)
    assert configured.exit_code == 1 and "configured in the scenario" in configured.output
    ignored = run("devices", "ignore", "5101", *common)
    assert ignored.exit_code == 1 and "cannot be ignored" in ignored.output


def test_errors_are_one_red_line(tmp_path: Path, site: Path) -> None:
    common = ["--scenario", str(site), "--data", str(tmp_path / "data")]
    unknown = run("devices", "show", "ahu2", *common)
    assert unknown.exit_code == 1
    assert unknown.output.strip() == "error: unknown device 'ahu2' (did you mean 'ahu1'?)"
    bad_range = run("devices", "discover", "bacnet", "--range", "9", "1", *common)
    assert bad_range.exit_code == 1 and "LOW 9 is above HIGH 1" in bad_range.output
    bad_network = run("devices", "discover", "bacnet", "--network", "nope", *common)
    assert bad_network.exit_code == 1 and "unknown BACnet network 'nope': the scenario has lan" in bad_network.output


def test_unknown_profile_offline(tmp_path: Path, site: Path, sim: BacnetSimulatorThread) -> None:
    common = ["--scenario", str(site), "--data", str(tmp_path / "data")]
    run("devices", "discover", "bacnet", "--range", "5100", "5199", "--timeout", "0.5", *common)
    result = run("devices", "accept", "bacnet:5101", "--profile", "vax", *common)
    assert result.exit_code == 1 and "no profile named 'vax' (did you mean 'vav'?)" in result.output


class FakeClient:
    def __init__(self, progress: list[DiscoveryProgress] | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.record = DeviceRecord(device_id="bacnet:7", protocol="bacnet", address="10.0.0.7:47808", state="Discovered")
        self.progress = progress or []
        self.followed = 0

    def devices(self, protocol: str | None = None) -> list[DeviceRecord]:
        self.calls.append(("devices", protocol))
        return [self.record]

    def device(self, device_id: str) -> DeviceRecord:
        self.calls.append(("device", device_id))
        return self.record

    def discover(self, *args: Any, progress: Callable[[DiscoveryProgress], None] | None = None) -> list[DeviceRecord]:
        self.calls.append(("discover", *args))
        if progress is not None:  # the daemon's steps, while the scan runs
            self.followed += 1
            for step in self.progress:
                progress(step)
        return [self.record]

    def accept(self, *args: Any) -> DeviceRecord:
        self.calls.append(("accept", *args))
        return msgspec.structs.replace(self.record, state="Accepted")

    def ignore(self, device_id: str) -> DeviceRecord:
        self.calls.append(("ignore", device_id))
        return msgspec.structs.replace(self.record, state="Ignored")

    def remove(self, device_id: str) -> DeviceRecord:
        self.calls.append(("remove", device_id))
        return msgspec.structs.replace(self.record, state="Discovered")


def test_with_a_daemon_every_command_goes_through_its_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()
    monkeypatch.setattr(devices_cli, "_daemon_running", lambda path: True)
    monkeypatch.setattr(devices_cli, "connect", lambda data: client)
    data = ["--data", str(tmp_path)]
    assert json.loads(run("devices", "list", "--protocol", "bacnet", *data, "--json").output)[0]["device_id"] == "bacnet:7"
    assert run("devices", "discover", "bacnet", "--range", "1", "9", "--timeout", "2", *data).exit_code == 0
    assert "Accepted" in run("devices", "accept", "bacnet:7", "--profile", "vav", *data).output
    assert "Ignored" in run("devices", "ignore", "bacnet:7", *data).output
    assert "10.0.0.7:47808" in run("devices", "show", "bacnet:7", *data).output
    assert client.calls == [("devices", "bacnet"), ("discover", "bacnet", 1, 9, 2.0, None),
                            ("accept", "bacnet:7", "vav", None), ("ignore", "bacnet:7"), ("device", "bacnet:7")]
    assert client.followed == 1  # its progress followed


def test_with_a_daemon_the_scans_progress_is_drawn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = [DiscoveryProgress(scan="s", network="lan", task="who-is", done=1, total=1, ts=1.0),
             DiscoveryProgress(scan="s", network="lan", task="device 7", done=3, total=9, ts=2.0, devices=1, objects=2)]
    shown: list[DiscoveryProgress] = []

    class Recorded(ScanBars):
        def show(self, event: DiscoveryProgress) -> None:
            super().show(event)
            shown.append(event)

    monkeypatch.setattr(devices_cli, "_daemon_running", lambda path: True)
    monkeypatch.setattr(devices_cli, "connect", lambda data: FakeClient(steps))
    monkeypatch.setattr(devices_cli, "ScanBars", Recorded)
    assert run("devices", "discover", "bacnet", "--data", str(tmp_path)).exit_code == 0
    assert shown == steps


def test_scan_bars_draw_a_bar_per_task_and_the_counts() -> None:
    recording = Console(record=True, width=100, force_terminal=False)
    with Progress(console=recording) as bar:
        bars = ScanBars(bar)
        bars.show(DiscoveryProgress(scan="s", network="lan", task="device 7", done=5, total=9, ts=2.0,
                                    devices=2, objects=6))
        bars.show(DiscoveryProgress(scan="s", network="lan", task="device 8", done=1, total=4, ts=1.0,
                                    devices=1, objects=0))  # an older event of another task
        descriptions = [t.description for t in bar.tasks]
        assert descriptions == ["found 2 devices, 6 objects read", "device 7", "device 8"]
        assert (bar.tasks[1].completed, bar.tasks[1].total) == (5, 9)


def test_every_id_discover_prints_works_with_show_accept_and_ignore(tmp_path: Path, site: Path) -> None:
    common = ["--scenario", str(site), "--data", str(tmp_path / "data")]
    found = run("devices", "discover", "bacnet", "--range", "5000", "5999", "--timeout", "0.5", *common, "--json")
    ids = [r["device_id"] for r in json.loads(found.output)]
    assert ids == ["ahu1", "bacnet:5101"]
    table = [  # (command, id, exit code, what it says)
        ("show", "ahu1", 0, "Configured"), ("show", f"bacnet:{AHU_ID}", 0, "ahu1"), ("show", "bacnet:5101", 0, "Discovered"),
        ("ignore", "bacnet:5101", 0, "Ignored"), ("accept", "bacnet:5101", 0, "Accepted"),
        ("accept", "ahu1", 1, "configured in the scenario"), ("ignore", "ahu1", 1, "configured in the scenario"),
    ]
    for command, device, code, text in table:
        result = run("devices", command, device, *common)
        assert (result.exit_code, text in result.output) == (code, True), (command, device, result.output)


def test_without_a_daemon_online_is_when_it_last_answered(tmp_path: Path, site: Path) -> None:
    common = ["--scenario", str(site), "--data", str(tmp_path / "data")]
    run("devices", "discover", "bacnet", "--range", "5000", "5999", "--timeout", "0.5", *common)
    listed = run("devices", "list", *common).output
    assert listed.count("last answered") == 2


def test_online_with_a_daemon_is_the_bridges_word(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()
    monkeypatch.setattr(devices_cli, "_daemon_running", lambda path: True)
    monkeypatch.setattr(devices_cli, "connect", lambda data: client)
    for online, word in ((True, "answering"), (False, "not answering"), (None, "unknown")):
        client.record = msgspec.structs.replace(client.record, online=online)
        shown = run("devices", "list", "--data", str(tmp_path)).output
        assert word in shown and ("not answering" in shown) == (word == "not answering")


def test_remove_asks_or_needs_yes(tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bms.cli._points as points_cli

    common = ["--scenario", str(site), "--data", str(tmp_path / "data")]
    run("devices", "discover", "bacnet", "--range", "5000", "5999", "--timeout", "0.5", *common)
    assert run("devices", "accept", "bacnet:5101", "--profile", "vav", *common).exit_code == 0
    table = [  # (arguments, exit code, what it says)
        (("bacnet:5101",), 1, "error: bacnet:5101: removing a device from the site: add --yes to remove it from a script"),
        (("ahu1", "--yes"), 1, "configured in the scenario"),
        (("bacnet:9", "--yes"), 1, "unknown device 'bacnet:9'"),
    ]
    for args, code, text in table:
        result = run("devices", "remove", *args, *common)
        assert (result.exit_code, text in " ".join(result.output.split())) == (code, True), (args, result.output)
    monkeypatch.setattr(points_cli, "on_terminal", lambda: True)
    declined = CliRunner().invoke(cli, ["devices", "remove", "bacnet:5101", *common], input="n\n")
    assert declined.exit_code == 1 and "not removed (not confirmed)" in declined.output
    with structlog.testing.capture_logs() as logs:
        removed = CliRunner().invoke(cli, ["devices", "remove", "bacnet:5101", *common], input="y\n")
    assert removed.exit_code == 0 and "bacnet:5101 removed from the site" in removed.output
    assert [(e["event"], e["device"]) for e in logs if e["event"] == "device removed"] == [
        ("device removed", "bacnet:5101")]
    assert read_pending(tmp_path / "data") == []
    with DiscoveryStore(tmp_path / "data" / "discovery.db") as store:
        assert store.get(VAV_ID).state == "Discovered"
    again = run("devices", "remove", "bacnet:5101", "--yes", *common)
    assert again.exit_code == 1 and "not part of the site (it is Discovered): nothing to remove" in again.output


def test_with_a_daemon_remove_goes_through_its_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient()
    monkeypatch.setattr(devices_cli, "_daemon_running", lambda path: True)
    monkeypatch.setattr(devices_cli, "connect", lambda data: client)
    assert run("devices", "remove", "bacnet:7", "--yes", "--data", str(tmp_path)).exit_code == 0
    assert client.calls == [("device", "bacnet:7"), ("remove", "bacnet:7")]


def test_offline_discover_accept_and_refusals_are_audited_as_the_os_user(tmp_path: Path, site: Path) -> None:
    import getpass

    from bms.audit import AuditLog

    common = ["--scenario", str(site), "--data", str(tmp_path / "data")]
    assert run("devices", "discover", "bacnet", "--range", "5100", "5199", "--timeout", "0.5", *common).exit_code == 0
    assert run("devices", "accept", "bacnet:5101", "--profile", "vav", *common).exit_code == 0
    assert run("devices", "ignore", "ahu1", *common).exit_code == 1
    assert run("devices", "list", *common).exit_code == 0  # reads are not actions
    log = AuditLog(tmp_path / "data" / "audit.db", readonly=True)
    rows = [(r.entry.user, r.entry.origin, r.entry.action, r.entry.target, r.entry.outcome) for r in log.rows()]
    me = getpass.getuser()
    assert rows == [(me, "cli", "discoverDevices", "bacnet", "done"), (me, "cli", "acceptDevice", "bacnet:5101", "done"),
                    (me, "cli", "ignoreDevice", "ahu1", "refused")]
    assert log.verify().intact
    log.close()


def test_discover_saves_a_device_that_answers_some_properties_wrongly(tmp_path: Path) -> None:
    """priority-array[0] as a REAL, inactive-text as Null: the device and the others saved, the bad ones named."""
    from bms.sim.bacnet import DeviceOptions

    devices = [SimDevice(5201, host(52), profile("ahu"), DeviceOptions(
        name="BAD-AHU", malformed=("priority-array-real", "inactive-text-null"))), SimDevice(5202, host(53), profile("vav"))]
    running = BacnetSimulatorThread(BacnetSimulator(devices, free_port(), interval=None))
    try:
        site = tmp_path / "site.toml"
        site.write_text(f"""
[site]
id = "s"
name = "S"

[networks.bacnet.lan]
address = "127.0.0.1/8:{free_port()}"
device_port = {running.simulator.device_port}
timeout = 0.5
retries = 0
""")
        common = ["--scenario", str(site), "--data", str(tmp_path / "data")]
        result = run("devices", "discover", "bacnet", "--range", "5200", "5299", "--timeout", "0.5", *common, "--json")
        assert result.exit_code == 0, result.output
        found = msgspec.json.decode(result.output, type=list[DeviceRecord])
        assert [(r.device_id, r.name, r.objects) for r in found] == [
            ("bacnet:5201", "BAD-AHU", len(profile("ahu").points) + 4),  # + notification class, schedule, calendar, device
            ("bacnet:5202", "VAV-5202", len(profile("vav").points) + 1)]
        shown = run("devices", "show", "bacnet:5201", *common)
        text = " ".join(shown.output.split())
        assert shown.exit_code == 0 and "unreadable" in text and "Traceback" not in text
        assert "cannot decode priority-array" in text and "cannot decode inactive-text" in text
    finally:
        running.stop()
