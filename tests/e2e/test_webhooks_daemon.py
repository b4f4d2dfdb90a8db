"""Webhooks in `bms daemon`: an alarm raised through the CLI reaches a real HTTP receiver on loopback as signed
JSON the receiver verifies, and `bms webhooks log` and `bms status` say so."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bms.daemon import read_daemon_info
from bms.export import verify
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import DaemonProcess, virtual_room
from tests.export_servers import hook_server

SECRET = "s3cret-for-the-test"


def bms(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bms", *args, "--data", str(data)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_an_alarm_reaches_the_endpoint_signed_and_the_delivery_is_logged(tmp_path: Path) -> None:
    data, settings = tmp_path / "data", tmp_path / "bms.toml"
    with hook_server() as hook:
        settings.write_text(f"""
[daemon]
scenario = "{virtual_room(tmp_path)}"

[webhooks]
tick = 0.2

[[webhooks.endpoints]]
name = "ops"
url = "{hook.url}"
secret = "{SECRET}"
events = ["alarm"]
""")
        daemon = DaemonProcess(data, settings)
        try:
            daemon.wait_for_event("running", timeout=60)
            wait_until(lambda: read_daemon_info(data) is not None, timeout=10, what="daemon.json")
            added = bms(data, "alarm", "add", "room1/temp", "--high", "15", "--severity", "high")
            assert added.returncode == 0, added.stderr
            ((path, headers, body, status),) = hook.requests(1, timeout=30)
            assert path == "/hook" and status == 200
            verify(SECRET, headers, body, now=time.time())  # what a receiver does with the two headers
            payload = json.loads(body)
            assert payload["kind"] == "alarm.raised" and payload["severity"] == "high"
            assert headers["X-Bms-Event"] == "alarm.raised"

            def logged() -> list[dict[str, object]]:
                done = bms(data, "webhooks", "log", "--json")
                assert done.returncode == 0, done.stderr
                return list(json.loads(done.stdout))

            wait_until(lambda: [(d["endpoint"], d["status"]) for d in logged()] == [("ops", "sent")],
                       timeout=30, what="the delivery logged as sent")
            status = json.loads(bms(data, "status", "--json").stdout)
            assert {c["component"]: c["state"] for c in status["components"]}["webhooks"] == "Healthy"
        finally:
            assert daemon.terminate() == 0
