"""`bms config check`: every problem at once, one line each, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bms.cli import cli
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
