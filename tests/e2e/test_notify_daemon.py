"""The notifier in `bms daemon`, driven as a user does: `bms notify test`, `bms notifications list`, `bms status`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.daemon import read_daemon_info
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess
from tests.notify_servers import JsonServer, SmtpServer, closed_port, json_server, smtp_server

SITE = ROOT / "tests/data/site.toml"


def bms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bms", *args], cwd=ROOT, capture_output=True, text=True, timeout=90)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SmtpServer, JsonServer]]:
    with smtp_server() as smtp, json_server() as hook:
        yield smtp, hook


@pytest.fixture(scope="module")
def daemon(servers: tuple[SmtpServer, JsonServer], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    smtp, hook = servers
    data = tmp_path_factory.mktemp("data")
    settings = tmp_path_factory.mktemp("conf") / "bms.toml"
    settings.write_text(f"""
[daemon]
scenario = "{SITE}"

[[notify.recipients]]
name = "ops"
url = "{smtp.url}"

[[notify.recipients]]
name = "bms-hook"
url = "{hook.url}"

[[notify.recipients]]
name = "down"
url = "json://127.0.0.1:{closed_port()}/"

[[notify.rules]]
name = "all"
recipients = ["ops", "bms-hook"]
""")
    proc = DaemonProcess(data, settings)
    try:
        proc.wait_for_event("running")
        wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
        yield data
        assert proc.terminate() == 0
    finally:
        proc.close()


def test_test_messages_go_through_the_daemon_and_are_logged(daemon: Path,
                                                             servers: tuple[SmtpServer, JsonServer]) -> None:
    smtp, hook = servers
    sent = bms("notify", "test", "ops", "--data", str(daemon))
    assert sent.returncode == 0, sent.stderr
    assert "test notification sent to ops (mailto)" in sent.stdout
    assert smtp.messages(1)[0]["Subject"] == "bms: test notification"

    as_json = bms("notify", "test", "bms-hook", "--data", str(daemon), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["status"] == "sent"
    assert hook.payloads(1)[0]["title"] == "bms: test notification"

    failed = bms("notify", "test", "down", "--data", str(daemon))
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: test notification to 'down' (json) failed: A Connection error")

    unknown = bms("notify", "test", "opz", "--data", str(daemon), "--json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stderr) == {"error": "no recipient named 'opz' in [notify] (did you mean 'ops'?)"}

    listed = bms("notifications", "list", "--data", str(daemon), "--since", "1h", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["recipient"], r["kind"], r["status"]) for r in json.loads(listed.stdout)] == [
        ("ops", "test", "sent"), ("bms-hook", "test", "sent"), ("down", "test", "failed")]

    status = bms("status", "--data", str(daemon), "--json")
    assert any(c["component"] == "notify" for c in json.loads(status.stdout)["components"]), status.stdout
