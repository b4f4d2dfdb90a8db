"""`bms config check`: every problem at once, one line each, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bms.cli import cli
from bms.config import CONF_DIR, Profile, Scenario, Settings, decode, find_profile, load_scenario, load_settings
from bms.errors import ConfigError
from tests.conftest import ROOT

GOOD_PROFILE = (ROOT / "tests/data/profiles/virtual-room.toml").read_text()


def _site(tmp_path: Path, body: str, profile: str = GOOD_PROFILE) -> Path:
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "virtual-room.toml").write_text(profile)
    path = tmp_path / "site.toml"
    path.write_text('profile_dirs = ["profiles"]\n' + body)
    return path


SITE = """
[site]
id = "s"
name = "S"

[[devices]]
id = "room1"
profile = "virtual-room"
protocol = "virtual"
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_valid_site_prints_summary(tmp_path: Path) -> None:
    code, out = run("config", "check", str(_site(tmp_path, SITE)))
    assert code == 0
    assert "1 devices, 2 points" in out


def test_bundled_demo_is_valid() -> None:
    code, out = run("config", "check")
    assert code == 0, out
    assert "site demo" in out


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _site(tmp_path, "[site\nid = 1")
    code, out = run("config", "check", str(path))
    assert code == 1
    assert f"{path}: TOML syntax error" in out and "line 2" in out
    assert "Traceback" not in out


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    body = SITE.replace('name = "S"', 'name = 5\ntimezon = "UTC"') + """
[[devices]]
id = "room2"
profile = "virtual-rom"
protocol = "virtual"
poll_interval = "fast"

[[devices]]
id = "room1"
profile = "virtual-room"
protocol = "virtual"
"""
    path = _site(tmp_path, body)
    code, out = run("config", "check", str(path))
    assert code == 1
    lines = [ln for ln in out.splitlines() if ln.startswith(str(path))]
    assert any("site.name: must be a string, got int 5" in ln for ln in lines)
    assert any("site.timezon: unknown key (did you mean 'timezone'?)" in ln for ln in lines)
    assert any("devices[1].poll_interval: must be" in ln for ln in lines)
    assert "4 problem(s)" in out or len(lines) >= 3


def test_cross_references_after_types(tmp_path: Path) -> None:
    body = SITE + """
[[devices]]
id = "room2"
profile = "virtual-rom"
protocol = "virtual"
space = "nowhere"

[[devices]]
id = "room1"
profile = "virtual-room"
protocol = "bacnet"
"""
    path = _site(tmp_path, body)
    code, out = run("config", "check", str(path))
    assert code == 1
    assert "devices[1].profile: no profile named 'virtual-rom' (did you mean 'virtual-room'?)" in out
    assert "devices[1].space: unknown space 'nowhere'" in out
    assert "devices[2].id: duplicate device id 'room1' (also devices[0])" in out
    assert "devices[2].protocol: device is 'bacnet' but profile 'virtual-room' is 'virtual'" in out
    assert "devices[2].device_instance: required for a bacnet device" in out


def test_duplicate_point_key_in_profile(tmp_path: Path) -> None:
    profile = GOOD_PROFILE.replace('key = "sp"', 'key = "temp"')
    path = _site(tmp_path, SITE, profile)
    code, out = run("config", "check", str(path))
    assert code == 1
    assert "points[1].key: duplicate point key 'temp' (also points[0])" in out


def test_profile_checked_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(GOOD_PROFILE.replace('unit = "°C"\ncov', 'unit = 3\ncov', 1).replace("writable = true", "writeable = true"))
    code, out = run("config", "check", str(path))
    assert code == 1
    assert f"{path}: points[0].unit: must be a string, got int 3" in out
    assert "points[1].writeable: unknown key (did you mean 'writable'?)" in out


def test_missing_file(tmp_path: Path) -> None:
    code, out = run("config", "check", str(tmp_path / "nope.toml"))
    assert code == 1 and "nope.toml: file not found" in out


def test_json_output(tmp_path: Path) -> None:
    code, out = run("config", "check", "--json", str(_site(tmp_path, SITE)))
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["devices"] == 1 and data["points"] == 2


@pytest.mark.parametrize("args", [["config", "check", "/nonexistent/x.toml"]])
def test_as_subprocess_one_red_line(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "bms", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 1  # the problem and the count


def test_a_device_named_like_a_space_is_refused(tmp_path: Path) -> None:
    body = SITE.replace('[[devices]]', '[[spaces]]\nid = "room1"\nname = "Room"\n\n[[devices]]')
    code, out = run("config", "check", str(_site(tmp_path, body)))
    assert code == 1
    assert "devices[0].id: 'room1' is already a space's id" in out


def test_the_daemon_refuses_a_model_it_cannot_build_in_one_line(tmp_path: Path) -> None:
    body = SITE.replace('[[devices]]', '[[spaces]]\nid = "zone"\nname = "Zone"\nparent = "zone"\n\n[[devices]]')
    site = _site(tmp_path, body)
    proc = subprocess.run([sys.executable, "-m", "bms", "daemon", "--config", str(site), "--data", str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "spaces" in errors[0] and "zone" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------- refused in one pass (issue 10)

BACNET_AHU = """
[[devices]]
id = "ahu9"
profile = "ahu"
protocol = "bacnet"
device_instance = 9
"""

ALL_AT_ONCE = SITE.replace('name = "S"', 'name = 5') + """
[networks.bacnet.main]

[[devices]]
id = "ahu9"
profile = "ahu2"
protocol = "bacnet"
network = "nowhere"
device_instance = 4194303
poll_interval = "fast"
"""

MISSPELLED_NETWORK = SITE + """
[networks.modbus.meters]

[[devices]]
id = "meter1"
profile = "power-meter"
protocol = "modbus"
network = "meter"
host = "127.0.0.1"
"""

REFUSED = [
    pytest.param("settings", "[api]\nport = 99999\n", ["api.port: must be 0..65535, got 99999"], id="api-port"),
    pytest.param("settings", "[history.retention]\nraw_days = -3\n",
                 ["history.retention.raw_days: must be above 0, got -3"], id="raw-days"),
    pytest.param("settings", "[api]\nmax_body_bytes = -5\n", ["api.max_body_bytes: must be 1024 or more, got -5"],
                 id="max-body-bytes"),
    pytest.param("settings", "[history.retention]\nrollup_15m_days = 0\n",
                 ["history.retention.rollup_15m_days: must be above 0, got 0"], id="rollup-15m-days"),
    pytest.param("settings", "[points]\ncommand_settle = -1\n",
                 ["points.command_settle: must be above 0 and 86400 or less, got -1"], id="command-settle"),
    pytest.param("scenario", SITE.replace('name = "S"', 'name = "S"\ntimezone = "Europe/Lodnon"'),
                 ["site.timezone: unknown time zone 'Europe/Lodnon' (did you mean 'Europe/London'?)"], id="timezone"),
    pytest.param("scenario", SITE + BACNET_AHU + 'unit_id = 3\nadress = "127.0.0.9"\n',
                 ["devices[1].unit_id: unknown key for protocol 'bacnet' (it belongs to protocol 'modbus')",
                  "devices[1].adress: unknown key (did you mean 'address'?)"], id="modbus-key-on-bacnet-device"),
    pytest.param("scenario", ALL_AT_ONCE,
                 ["site.name: must be a string, got int 5",
                  "devices[1].poll_interval: must be a number, got str 'fast'",
                  "devices[1].profile: no profile named 'ahu2' (did you mean 'ahu'?)",
                  "devices[1].network: unknown bacnet network 'nowhere'",
                  "devices[1].device_instance: must be 0..4194302, got 4194303"], id="every-problem-in-one-run"),
    pytest.param("scenario", MISSPELLED_NETWORK,
                 ["devices[1].network: unknown modbus network 'meter' (did you mean 'meters'?)"],
                 id="misspelled-network"),
]


@pytest.mark.parametrize(("kind", "body", "expected"), REFUSED)
def test_refused_in_one_pass(tmp_path: Path, kind: str, body: str, expected: list[str]) -> None:
    if kind == "settings":
        path = tmp_path / "bms.toml"
        path.write_text(body)
    else:
        path = _site(tmp_path, body)
    want = sorted(f"{path}: {line}" for line in expected)
    code, out = run("config", "check", str(path))
    assert code == 1
    assert sorted(ln for ln in out.splitlines() if ln.startswith(f"{path}: ")) == want, out
    assert f"{len(expected)} problem(s)" in out
    with pytest.raises(ConfigError) as refused:
        load_settings(path) if kind == "settings" else load_scenario(path)
    assert sorted(refused.value.problems) == want


SITE_TABLE = {"id": "s", "name": "S"}


def _point(**modbus: Any) -> dict[str, Any]:
    return {"name": "p", "protocol": "modbus", "points": [{"key": "k", "name": "K", "modbus": {"table": "holding", **modbus}}]}


def _device(**keys: Any) -> dict[str, Any]:
    return {"site": SITE_TABLE, "devices": [{"id": "d", "profile": "p", "protocol": "modbus", **keys}]}


def _network(protocol: str, **keys: Any) -> dict[str, Any]:
    return {"site": SITE_TABLE, "networks": {protocol: {"n": keys}}}


@pytest.mark.parametrize(("cls", "data", "problem"), [
    (Settings, {"api": {"port": -1}}, "api.port: must be 0..65535, got -1"),
    (Settings, {"history": {"batch_max": 0}}, "history.batch_max: must be 1 or more, got 0"),
    (Settings, {"history": {"retention": {"rollup_1d_days": -1.5}}},
     "history.retention.rollup_1d_days: must be above 0, got -1.5"),
    (Profile, _point(address=65536), "points[0].modbus.address: must be 0..65535, got 65536"),
    (Profile, _point(address=1, bit=16), "points[0].modbus.bit: must be 0..15, got 16"),
    (Profile, {"name": "p", "protocol": "virtual", "points": [{"key": "k", "name": "K", "command_priority": 17}]},
     "points[0].command_priority: must be 1..16, got 17"),
    (Profile, {"name": "p", "protocol": "virtual", "points": [{"key": "a/b", "name": "K"}]},
     "points[0].key: must be non-empty, without '/', got 'a/b'"),
    (Profile, {"name": "p", "protocol": "virtual", "points": [{"key": "k", "name": "K", "history": {"interval": 0}}]},
     "points[0].history.interval: must be above 0, got 0"),
    (Scenario, _device(unit_id=248), "devices[0].unit_id: must be 0..247, got 248"),
    (Scenario, _device(max_registers=126), "devices[0].max_registers: must be 1..125, got 126"),
    (Scenario, _device(max_bits=2001), "devices[0].max_bits: must be 1..2000, got 2001"),
    (Scenario, _device(max_gap=-1), "devices[0].max_gap: must be 0 or more, got -1"),
    (Scenario, _device(port=70000), "devices[0].port: must be 1..65535, got 70000"),
    (Scenario, _device(retries=-1), "devices[0].retries: must be 0 or more, got -1"),
    (Scenario, _device(timeout=0), "devices[0].timeout: must be above 0, got 0"),
    (Scenario, _device(poll_interval=-2.5), "devices[0].poll_interval: must be above 0, got -2.5"),
    (Scenario, _network("bacnet", device_port=0), "networks.bacnet.n.device_port: must be 1..65535, got 0"),
    (Scenario, _network("bacnet", bbmd_ttl=0), "networks.bacnet.n.bbmd_ttl: must be 1..65535, got 0"),
    (Scenario, _network("bacnet", concurrency=0), "networks.bacnet.n.concurrency: must be 1 or more, got 0"),
    (Scenario, _network("modbus", baudrate=50), "networks.modbus.n.baudrate: must be 300..921600, got 50"),
    (Scenario, _network("modbus", stopbits=3), "networks.modbus.n.stopbits: must be one of 1, 2, got 3"),
    (Scenario, _network("modbus", retries=-1), "networks.modbus.n.retries: must be 0 or more, got -1"),
    (Scenario, {"site": SITE_TABLE, "simulate": {"modbus_port": 0}}, "simulate.modbus_port: must be 1..65535, got 0"),
])
def test_ranges_are_declared_on_the_schema(cls: type, data: dict[str, Any], problem: str) -> None:
    if cls is Settings:  # the settings file: the core's sections and the installed components'
        from bms.config._sections import installed_sections, settings_struct

        cls = settings_struct(installed_sections())
    value, problems = decode(data, cls, "f.toml")
    assert (value, problems) == (None, [f"f.toml: {problem}"])


def test_a_device_without_a_known_protocol_still_has_its_keys_checked() -> None:
    _, problems = decode(_device(protocol="knx", unit_id=300, hots="h"), Scenario, "f.toml")
    assert problems == [
        "f.toml: devices[0].protocol: must be one of 'bacnet', 'modbus', 'virtual', got 'knx'",
        "f.toml: devices[0].unit_id: must be 0..247, got 300",
        "f.toml: devices[0].hots: unknown key (did you mean 'host'?)",
    ]


def test_find_profile_names_the_closest() -> None:
    assert find_profile("vav", [CONF_DIR / "profiles"]).name == "vav"
    with pytest.raises(ConfigError, match=r"^no profile named 'vav2' \(did you mean 'vav'\?\)$"):
        find_profile("vav2", [CONF_DIR / "profiles"])


def test_the_components_files_are_checked_too_every_problem_at_once(tmp_path: Path) -> None:
    """A site's logic programs, FDD rules and scenario schedules: each problem one line naming its file."""
    site = _site(tmp_path, SITE + """
[[schedules]]
name = "hours"
template = "office"
[[schedules.assign]]
points = ["room1/sp", "room1/nope", "room1/temp"]
[[schedules.exceptions]]
name = "Holidays"
when = { kind = "holidays", country = "XX" }
""")
    (tmp_path / "logic").mkdir()
    (tmp_path / "logic" / "follow.toml").write_text(
        'interval = 5\n[[blocks]]\nid = "t"\ntype = "PointRead"\npoint = "room1/tmep"\n'
        '[[blocks]]\nid = "w"\ntype = "PointWrite"\npoint = "room1/sp"\n[[wires]]\nfrom = "t"\nto = "w.in"\n')
    (tmp_path / "logic" / "status.toml").write_text('lua = "local x = 1"\n')
    (tmp_path / "fdd").mkdir()
    (tmp_path / "fdd" / "rules.toml").write_text(
        '[[generic]]\nname = "warm"\ntype = "threshold"\npoint = "room1/temperature"\nhigh = 24.0\n')
    settings = tmp_path / "bms.toml"
    settings.write_text('[daemon]\nscenario = "site.toml"\n[logic]\ntrusted_keys = ["ed25519:nonsense"]\n'
                        '[fdd.bindings.ahu9]\nmat = "ahu9/mat"\n')
    code, out = run("config", "check", str(settings))
    assert code == 1, out
    lines = [" ".join(line.split()) for line in out.replace("\n ", " ").splitlines()]
    text = "\n".join(lines)
    assert "follow.toml: blocks[0] (t): PointRead: unknown point 'room1/tmep' (did you mean 'room1/temp'?)" in text
    assert "status.toml: name: 'status' is taken by the engine itself" in text
    assert "[logic] trusted_keys[0]: public key" in text
    assert "generic rule warm: point: no point 'room1/temperature'" in text
    assert "[fdd] bindings.ahu9: no equipment 'ahu9' in the model" in text
    assert "schedules.hours: assign[0]: unknown point 'room1/nope'" in text
    assert "schedules.hours: assign[0]: point 'room1/temp' is not writable" in text
    assert "schedules.hours: exceptions[0] (Holidays)" in text
    result = CliRunner().invoke(cli, ["config", "check", "--json", str(settings)])
    found = json.loads(result.output)
    assert not found["ok"] and found["components_checked"] == ["fdd", "logic", "schedules"]
    assert len(found["problems"]) == 8, found["problems"]
    assert all("\n" not in p and "Traceback" not in p for p in found["problems"])
    code, out = run("config", "check", str(site))  # the scenario alone: the components' default settings
    assert code == 1 and "room1/tmep" in out and "trusted_keys" not in out and "6 problem(s)" in out
