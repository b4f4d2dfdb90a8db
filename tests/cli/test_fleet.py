"""``bms fleet status`` through click's runner, against retained statuses this test puts on the real Mosquitto
(under a prefix of its own): online, offline and stale sites, a payload that is not a status, --json, and the
refusals (a bad URL, a broker that is not there) as one line."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from bms.cli import cli, console
from bms.export import Problem, SiteStatus, encode
from tests.mqtt_broker import URL, clear_retained, unique, watching


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="bms")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def fleet() -> Iterator[str]:
    prefix = unique("fleetcli")
    now = time.time()
    sites = [
        SiteStatus(org="acme", site="north", device="edge", state="online", ts=now - 5, health="Degraded",
                   problems=(Problem(component="bacnet", state="Degraded", reason="1 device down"),),
                   active_alarms=3, unacked_alarms=2, devices_down=("ahu1",), name="North"),
        SiteStatus(org="acme", site="south", device="edge", state="offline", ts=now - 600),
        SiteStatus(org="globex", site="plant", device="edge", state="online", ts=now - 3600, health="Healthy"),
    ]
    with watching() as w:
        for s in sites:
            w.publish(f"{prefix}/{s.org}/{s.site}/{s.device}/status/update", encode(s), retain=True)
        w.publish(f"{prefix}/x/y/z/status/update", b"not json", retain=True)
    try:
        yield prefix
    finally:
        clear_retained(prefix)


def test_fleet_status_as_json(fleet: str) -> None:
    code, out, err = run("fleet", "status", "--broker", URL, "--prefix", fleet, "--json", "--stale", "900")
    assert code == 0, err
    sites = {(s["org"], s["site"]): s for s in json.loads(out)}
    assert sites["acme", "north"]["state"] == "online" and sites["acme", "north"]["health"] == "Degraded"
    assert sites["acme", "north"]["active_alarms"] == 3 and sites["acme", "north"]["unacked_alarms"] == 2
    assert sites["acme", "north"]["problems"] == ["bacnet: Degraded 1 device down"]
    assert sites["acme", "south"]["state"] == "offline" and sites["acme", "south"]["health"] == "Unknown"
    assert sites["globex", "plant"]["state"] == "stale"  # online, but silent for an hour
    assert sites["x", "y"]["error"].startswith("not a site status")


def test_fleet_status_as_a_table(fleet: str) -> None:
    width = console.width
    console.width = 220  # one line per site
    try:
        with console.capture() as captured:
            code, _out, err = run("fleet", "status", "--broker", URL, "--prefix", fleet)
    finally:
        console.width = width
    assert code == 0, err
    text = captured.get()
    assert "4 site(s)" in text
    for word in ("north", "offline", "stale", "globex", "ahu1", "3 (2 unacked)"):
        assert word in text


def test_no_sites_is_said() -> None:
    with console.capture() as captured:
        code, _out, _err = run("fleet", "status", "--broker", URL, "--prefix", unique("empty"), "--wait", "1")
    assert code == 0
    assert "no sites under" in captured.get()


def test_refusals_are_one_line() -> None:
    code, _out, err = run("fleet", "status", "--broker", "http://127.0.0.1")
    assert code == 1 and "scheme must be mqtt:// or mqtts://" in err and "Traceback" not in err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _out, err = run("fleet", "status", "--broker", f"mqtt://127.0.0.1:{port}", "--json")
    assert code == 1
    assert json.loads(err)["error"].startswith(f"cannot reach the MQTT broker at 127.0.0.1:{port}")
