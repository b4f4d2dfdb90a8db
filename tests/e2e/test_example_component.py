"""The out-of-tree example component, installed as a user would: started, supervised, in status, API and CLI.

``examples/bms-example`` is pip-installed into a folder of its own and put
on the daemon's and the CLI's PYTHONPATH; nothing in bms names it. It is
found through its ``bms.components`` entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from bms.client import ApiClient
from bms.daemon import read_daemon_info
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess

SITE = ROOT / "tests/data/site.toml"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(ROOT / "examples/bms-example")],
        check=True, timeout=300, capture_output=True,
    )
    return target


def env_with(plugin_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(plugin_path), os.environ.get("PYTHONPATH")]))}


def bms(plugin_path: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = env_with(plugin_path) if plugin_path is not None else dict(os.environ)
    return subprocess.run([sys.executable, "-m", "bms", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.fixture(scope="module")
def daemon(plugin_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("data")
    settings = tmp_path_factory.mktemp("conf") / "bms.toml"
    settings.write_text(f'[daemon]\nscenario = "{SITE}"\n\n[example]\ntop = 2\n')
    proc = DaemonProcess(data, settings, env={"PYTHONPATH": env_with(plugin_path)["PYTHONPATH"]})
    try:
        proc.wait_for_event("running")
        wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
        yield data
        assert proc.terminate() == 0
    finally:
        proc.close()


def test_the_example_runs_supervised_and_shows_in_status(plugin_path: Path, daemon: Path) -> None:
    done = bms(plugin_path, "status", "--json", "--data", str(daemon))
    assert done.returncode == 0, done.stderr
    components = {c["component"]: c for c in json.loads(done.stdout)["components"]}
    assert components["example"]["state"] == "Healthy"
    assert components["points"]["state"] == "Healthy"


def test_its_api_route_and_cli_command_answer_from_the_running_actor(plugin_path: Path, daemon: Path) -> None:
    with ApiClient.from_data_dir(daemon) as client:

        def counted() -> dict[str, Any]:
            return client.get("/api/example/busiest", dict)

        before = counted()["total"]
        for value in (20.0, 22.0, 24.0):
            client.write("room1/sp", value, priority=7)
        client.relinquish("room1/sp", priority=7)
        total = before + 4
        wait_until(lambda: counted()["total"] == total, timeout=10, what="four more changes counted")
        assert counted()["points"] == [{"point_id": "room1/sp", "changes": total}]
        document = client.get("/api/openapi.json", dict)
    assert "/api/example/busiest" in document["paths"]  # type: ignore[operator]
    assert "BusiestPoints" in document["components"]["schemas"]  # type: ignore[index]

    done = bms(plugin_path, "example", "busiest", "--top", "1", "--json", "--data", str(daemon))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"points": [{"point_id": "room1/sp", "changes": total}], "total": total}
    table = bms(plugin_path, "example", "busiest", "--data", str(daemon))
    assert "room1/sp" in table.stdout and f"{total} change(s) counted" in table.stdout


def test_the_shell_offers_its_command_and_its_own_word(plugin_path: Path, daemon: Path) -> None:
    with ApiClient.from_data_dir(daemon) as client:
        client.write("room1/sp", 26.0, priority=6)
        wait_until(lambda: client.get("/api/example/busiest", dict)["total"] > 0, timeout=10, what="a change counted")
    child = pexpect.spawn(sys.executable, ["-m", "bms", "shell", "--data", str(daemon)], cwd=str(ROOT),
                          env={**env_with(plugin_path), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "NO_COLOR": "1"},
                          encoding="utf-8", timeout=20, dimensions=(40, 150))
    try:
        child.expect("bms>")
        child.sendline("busiest 1")
        child.expect("change\\(s\\) counted")
        assert "room1/sp" in child.before
        child.expect("bms>")
        child.sendline("example busiest --json")
        child.expect('"total"')
        child.expect("bms>")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
        child.close()


def test_its_settings_section_is_checked_like_the_cores(plugin_path: Path, tmp_path: Path) -> None:
    settings = tmp_path / "bms.toml"
    settings.write_text(f'[daemon]\nscenario = "{SITE}"\n\n[example]\ntop = 0\ntpo = 3\n')
    done = bms(plugin_path, "config", "check", str(settings))
    assert done.returncode == 1
    assert f"{settings}: example.tpo: unknown key (did you mean 'top'?)" in done.stderr
    assert f"{settings}: example.top:" in done.stderr
    assert "Traceback" not in done.stderr
    # without the component installed its section is unknown, with a hint
    done = bms(None, "config", "check", str(settings))
    assert done.returncode == 1
    assert f"{settings}: example: unknown key" in done.stderr


def test_a_bad_section_keeps_it_down_with_one_line_and_the_site_runs(plugin_path: Path, tmp_path: Path) -> None:
    settings = tmp_path / "bms.toml"
    settings.write_text(f'[daemon]\nscenario = "{SITE}"\n\n[example]\ntop = 0\n')
    proc = DaemonProcess(tmp_path / "data", settings, env={"PYTHONPATH": env_with(plugin_path)["PYTHONPATH"]})
    try:
        proc.wait_for_event("running")
        wait_until(lambda: read_daemon_info(tmp_path / "data") is not None, timeout=10, what="daemon.json")
        done = bms(plugin_path, "status", "--json", "--data", str(tmp_path / "data"))
        components = {c["component"]: c for c in json.loads(done.stdout)["components"]}
        assert components["example"]["state"] == "Down"
        assert components["example"]["reason"].startswith(f"settings: {settings}: example.top:")
        assert components["points"]["state"] == components["api"]["state"] == "Healthy"
        assert done.returncode == 2  # bms status: 2 when the site is Degraded (a component Down among Healthy ones)
        assert proc.terminate() == 0
    finally:
        proc.close()


def test_without_it_installed_bms_knows_no_example_command() -> None:
    done = bms(None, "example", "busiest")
    assert done.returncode != 0
    assert "No such command 'example'" in done.stderr
