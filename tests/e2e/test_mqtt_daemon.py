"""`bms daemon --mqtt URL` as a process: the quick start publishes the site with the default topics and no
other configuration; kill -9 leaves the last will (offline) retained. Then federation: three daemons on
loopback under one prefix of this run, and `bms fleet status` lists all three.

Each daemon runs the virtual-room site under a site id of its own, on its own data directory and a free
API port (no demo ports).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.client import ApiClient
from bms.daemon import read_daemon_info
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess, virtual_room
from tests.mqtt_broker import URL, clear_retained, unique, watching


def scenario(folder: Path, site_id: str) -> Path:
    path = virtual_room(folder)
    path.write_text(path.read_text().replace('id = "test"', f'id = "{site_id}"', 1))
    return path


def started(daemon: DaemonProcess, data: Path) -> None:
    daemon.wait_for_event("running")
    wait_until(lambda: read_daemon_info(data) is not None and (data / "api.token").exists(), timeout=10,
               what="daemon.json and api.token")


@pytest.fixture
def site_id() -> Iterator[str]:
    sid = unique("qs")
    yield sid
    clear_retained(f"bms/default/{sid}")


def test_quick_start_publishes_the_site_and_the_last_will_marks_it_offline(tmp_path: Path, site_id: str) -> None:
    data = tmp_path / "data"
    base = f"bms/default/{site_id}/{socket.gethostname()}"
    with watching(f"{base}/#") as w:
        daemon = DaemonProcess(data, scenario(tmp_path, site_id), "--mqtt", URL)
        try:
            started(daemon, data)
            online = w.on(f"{base}/status/update", where=lambda s: isinstance(s, dict) and s["state"] == "online")
            assert json.loads(online.payload)["name"] == "Test site"
            with ApiClient.from_data_dir(data) as api:
                api.write("room1/sp", 24.5, priority=8)
                health = {c.component: c for c in api.health().components}
            assert health["mqtt"].state == "Healthy"
            assert health["mqtt"].reason.startswith("connected to 127.0.0.1:1883")
            w.on(f"{base}/room1/sp", where=lambda v: isinstance(v, dict) and v["value"] == 24.5)
            daemon.proc.kill()  # no clean stop: the broker sends the last will
            daemon.proc.wait(10)
            w.on(f"{base}/status/update", where=lambda s: isinstance(s, dict) and s["state"] == "offline")
        finally:
            daemon.close()
    with watching(f"{base}/status/update") as late:  # and it is what the topic keeps
        assert json.loads(late.on(f"{base}/status/update").payload)["state"] == "offline"


def test_a_bad_mqtt_url_is_one_line(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "bms", "daemon", "--data", str(tmp_path / "d"), "--mqtt",
                          "http://127.0.0.1:1883", "--config", str(scenario(tmp_path, "x"))],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "Invalid value for '--mqtt': scheme must be mqtt:// or mqtts://" in run.stderr
    assert "Traceback" not in run.stderr


def settings(folder: Path, scen: Path, prefix: str, org: str, site: str) -> Path:
    path = folder / "bms.toml"
    path.write_text(f"""
[daemon]
scenario = "{scen}"

[mqtt]
url = "{URL}"
prefix = "{prefix}"
org = "{org}"
site = "{site}"
instance = "edge"
heartbeat = 5.0
""")
    return path


def test_three_sites_federate_on_one_broker_and_fleet_status_lists_them(tmp_path: Path) -> None:
    prefix = unique("fleet")
    sites = [("acme", "north"), ("acme", "south"), ("globex", "plant")]
    daemons: list[DaemonProcess] = []
    try:
        with watching(f"{prefix}/+/+/+/status/update") as w:
            for org, site in sites:
                folder = tmp_path / site
                folder.mkdir()
                scen = scenario(folder, site)
                daemons.append(DaemonProcess(folder / "data", settings(folder, scen, prefix, org, site)))
            for daemon, (_, site) in zip(daemons, sites, strict=True):
                started(daemon, tmp_path / site / "data")
            for org, site in sites:
                w.on(f"{prefix}/{org}/{site}/edge/status/update")
        with ApiClient.from_data_dir(tmp_path / "south" / "data") as api:
            api.write("room1/sp", 22.0, priority=8)
        run = subprocess.run([sys.executable, "-m", "bms", "fleet", "status", "--broker", URL, "--prefix", prefix,
                              "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        listed = json.loads(run.stdout)
        assert [(s["org"], s["site"], s["device"], s["state"]) for s in listed] == [
            ("acme", "north", "edge", "online"), ("acme", "south", "edge", "online"),
            ("globex", "plant", "edge", "online")]
        assert all(s["health"] in ("Healthy", "Degraded") and s["age"] < 120 for s in listed)
        assert all(s["active_alarms"] == 0 for s in listed)
        daemons[1].terminate()  # a clean stop says offline at once
        table = subprocess.run([sys.executable, "-m", "bms", "fleet", "status", "--broker", URL, "--prefix", prefix],
                               cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
        assert table.returncode == 0, table.stderr
        assert "3 site(s)" in table.stdout and "offline" in table.stdout and "globex" in table.stdout
    finally:
        for daemon in daemons:
            daemon.terminate()
        clear_retained(prefix)


def test_fleet_status_names_a_broker_that_is_not_there() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = subprocess.run([sys.executable, "-m", "bms", "fleet", "status", "--broker", f"mqtt://127.0.0.1:{port}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().startswith(f"error: cannot reach the MQTT broker at 127.0.0.1:{port}")
    assert "Traceback" not in run.stderr
