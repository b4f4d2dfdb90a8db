"""The logic engine in `bms daemon`, driven as a user does: the demo site and its two demo programs.

The demo scenario is copied with ports of its own (the demo's ports belong to test_demo.py) and the
daemon's ``[logic] programs`` names the bundled conf/logic: sat-reset and vav101-zone run against the
simulated AHU and VAVs, write through the priority arrays as ``logic:NAME``, and `bms logic` shows them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bms.daemon import read_daemon_info
from bms.logic import generate_key
from tests.bms.bacnet.loopback import free_port
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess

ENV = {"COLUMNS": "160", "NO_COLOR": "1"}


def bms(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bms", *args, "--data", str(data)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **ENV})


def offline(*args: str) -> subprocess.CompletedProcess[str]:
    """A command that needs no daemon (bundle build, key)."""
    return subprocess.run([sys.executable, "-m", "bms", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **ENV})


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_copy(directory: Path) -> Path:
    """conf/scenarios/demo.toml with ports of its own."""
    text = (ROOT / "conf/scenarios/demo.toml").read_text(encoding="utf-8")
    modbus = free_tcp_port()
    for old, new in (('profile_dirs = ["../profiles"]', f'profile_dirs = ["{ROOT / "conf/profiles"}"]'),
                     ('address = "127.0.0.1/8:47809"', f'address = "127.0.0.1/8:{free_port()}"'),
                     ("device_port = 47808", f"device_port = {free_port()}"),
                     ("modbus_port = 15020", f"modbus_port = {modbus}"), ("port = 15020", f"port = {modbus}")):
        assert old in text, old
        text = text.replace(old, new)
    path = directory / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("data")
    conf = tmp_path_factory.mktemp("conf")
    public = generate_key(data.parent / "signer.key")
    settings = conf / "bms.toml"
    settings.write_text(f"""
[daemon]
scenario = "{demo_copy(conf)}"

[logic]
programs = "{ROOT / 'conf/logic'}"
trusted_keys = ["{public}"]
""")
    proc = DaemonProcess(data, settings)
    try:
        proc.wait_for_event("running")
        wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
        yield data
        assert proc.terminate() == 0
    finally:
        proc.close()


def programs(data: Path) -> dict[str, dict[str, Any]]:
    listed = bms(data, "logic", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {p["name"]: p for p in json.loads(listed.stdout)}


def test_the_demo_programs_run_and_write_through_the_priority_arrays(daemon: Path) -> None:
    found = programs(daemon)
    assert sorted(found) == ["sat-reset", "vav101-zone"]
    assert all(p["state"] == "running" for p in found.values())
    wait_until(lambda: programs(daemon)["vav101-zone"]["runs"] >= 1, timeout=30, what="vav101-zone has run")

    def damper_level() -> tuple[Any, Any]:
        view = json.loads(bms(daemon, "point", "priority", "vav101/damper", "--json").stdout)
        return view["levels"][9], view["users"][9]

    wait_until(lambda: damper_level()[1] == "logic:vav101-zone", timeout=30, what="the damper commanded at 10")
    value, _ = damper_level()
    assert isinstance(value, float) and 10.0 <= value <= 100.0  # within the bundle's constraint
    table = bms(daemon, "logic", "list")
    assert table.returncode == 0 and "vav101-zone" in table.stdout and "every 5 s" in table.stdout
    status = bms(daemon, "status", "--json")
    report = json.loads(status.stdout)
    logic = next(c for c in report["components"] if c["component"] == "logic")
    assert logic["state"] == "Healthy", logic


def test_trace_show_disable_and_enable(daemon: Path) -> None:
    def last_run() -> dict[str, Any]:
        traced = bms(daemon, "logic", "trace", "vav101-zone", "--last", "1", "--json")
        assert traced.returncode == 0, traced.stderr
        found = json.loads(traced.stdout)
        return found[-1] if found else {"inputs": {}}

    # the first runs may come before the bridge has polled the VAV: then the inputs are their defaults
    wait_until(lambda: "vav101/zone_temp" in last_run()["inputs"], timeout=30, what="a run on a polled zone_temp")
    assert "loop.out" in last_run()["outputs"]
    shown = bms(daemon, "logic", "trace", "vav101-zone", "--last", "1")
    assert "loop.out" in shown.stdout and "vav101/damper @10" in shown.stdout
    off = bms(daemon, "logic", "disable", "sat-reset", "--json")
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["state"] == "disabled"
    assert "disabled" in bms(daemon, "logic", "show", "sat-reset").stdout
    on = bms(daemon, "logic", "enable", "sat-reset", "--json")
    assert json.loads(on.stdout)["state"] == "running"
    missing = bms(daemon, "logic", "show", "nope")
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("error:") and "no logic program 'nope'" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_watch_shows_every_block_of_each_new_run(daemon: Path) -> None:
    watched = bms(daemon, "logic", "watch", "vav101-zone", "--runs", "2", "--every", "0.5")
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.count("loop.out") == 2 and "vav101/zone_temp" in watched.stdout
    unknown = bms(daemon, "logic", "watch", "nope", "--runs", "1")
    assert unknown.returncode == 1 and "no logic program 'nope'" in unknown.stderr


def test_build_deploy_versions_and_rollback_of_signed_bundles(daemon: Path, tmp_path: Path) -> None:
    """Keys trusted by the daemon's settings (the fixture's bms.toml names them); bundles of conf/logic."""
    key = daemon.parent / "signer.key"  # made by the fixture, its public key in [logic] trusted_keys
    one, two = tmp_path / "one.bundle", tmp_path / "two.bundle"
    source = tmp_path / "src"
    source.mkdir()
    for name in ("sat-reset.toml", "vav101-zone.toml"):
        (source / name).write_text((ROOT / "conf/logic" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (source / "bundle.toml").write_text('version = "1.0.0"\n', encoding="utf-8")
    built = offline("logic", "bundle", "build", str(source), "--key", str(key), "--out", str(one))
    assert built.returncode == 0, built.stderr
    assert "bundle 1.0.0 signed by key" in built.stdout
    (source / "sat-reset.toml").unlink()
    (source / "bundle.toml").write_text('version = "1.1.0"\n', encoding="utf-8")
    assert offline("logic", "bundle", "build", str(source), "--key", str(key), "--out", str(two)).returncode == 0
    for bundle in (one, two):
        deployed = bms(daemon, "logic", "deploy", str(bundle))
        assert deployed.returncode == 0, deployed.stderr
    assert sorted(programs(daemon)) == ["vav101-zone"]
    versions = json.loads(bms(daemon, "logic", "versions", "--json").stdout)
    assert [(v["version"], v["active"]) for v in versions] == [("1.0.0", False), ("1.1.0", True)]
    back = bms(daemon, "logic", "rollback", "--json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["version"] == "1.0.0"
    assert sorted(programs(daemon)) == ["sat-reset", "vav101-zone"]
    stranger = tmp_path / "stranger.key"
    assert offline("logic", "bundle", "key", str(stranger)).returncode == 0
    assert offline("logic", "bundle", "build", str(source), "--key", str(stranger), "--out",
                   str(tmp_path / "x.bundle")).returncode == 0
    refused = bms(daemon, "logic", "deploy", str(tmp_path / "x.bundle"))
    assert refused.returncode == 1 and "signed by an unknown key" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_engine_status_events_stop_start_and_reload(daemon: Path) -> None:
    status = bms(daemon, "logic", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["scheduler"] == "running"
    followed = bms(daemon, "logic", "events", "--count", "3", "--json")  # the stream, followed until 3 events
    assert followed.returncode == 0, followed.stderr
    events = [json.loads(line) for line in followed.stdout.splitlines()]  # JSON Lines
    assert len(events) == 3 and all(e["type"] == "LogicEvent" and e["kind"] in ("run", "write", "error") for e in events)
    stopped = bms(daemon, "logic", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    report = json.loads(bms(daemon, "status", "--json").stdout)
    logic = next(c for c in report["components"] if c["component"] == "logic")
    assert logic["state"] == "Degraded" and "execution stopped" in logic["reason"]
    started = bms(daemon, "logic", "start", "--json")
    assert started.returncode == 0 and json.loads(started.stdout)["scheduler"] == "running"
    reloaded = bms(daemon, "logic", "reload", "--json")
    assert reloaded.returncode == 0, reloaded.stderr
    assert {p["name"] for p in json.loads(reloaded.stdout)["programs"]} >= {"vav101-zone"}
    shown = bms(daemon, "logic", "status")
    assert "scheduler" in shown.stdout and "running" in shown.stdout
