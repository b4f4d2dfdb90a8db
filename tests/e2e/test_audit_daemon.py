"""Users, tokens and the audit log with a real `bms daemon` process: the CLI as a subprocess and in
process (``--user`` prompting for the password), and kill -9 in the middle of audited writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bms.audit import AuditLog
from bms.cli import cli
from bms.client import ApiClient
from bms.errors import BmsError
from tests.conftest import ROOT, wait_until
from tests.e2e.daemon import SITE, DaemonProcess, virtual_site


def bms(data: Path, *args: str, token: str | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BMS_TOKEN"}
    if token is not None:
        env["BMS_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "bms", *args, "--data", str(data)], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with virtual_site(tmp_path_factory) as path:
        yield path


def test_an_operator_commands_within_its_ceiling_and_the_array_shows_who(data: Path) -> None:
    added = bms(data, "user", "add", "olga", "--role", "operator", "--no-password")
    assert added.returncode == 0, added.stderr
    made = bms(data, "token", "create", "laptop", "--for", "olga", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]

    refused = bms(data, "point", "write", "room1/sp", "23", "--priority", "5", token=token)
    assert refused.returncode == 1
    assert "error: user 'olga' (role operator) may not command above priority 8, asked 5" in refused.stderr
    assert bms(data, "point", "write", "room1/sp", "23", "--priority", "8", token=token).returncode == 0
    view = json.loads(bms(data, "point", "priority", "room1/sp", "--json").stdout)
    assert view["users"][7] == "olga" and view["levels"][7] == 23

    rows = json.loads(bms(data, "audit", "list", "--target", "room1", "--json").stdout)
    assert [(r["entry"]["user"], r["entry"]["token"], r["entry"]["origin"].split()[0], r["entry"]["outcome"])
            for r in rows] == [("olga", "laptop", "cli", "refused"), ("olga", "laptop", "cli", "done")]
    viewer_denied = bms(data, "audit", "list", token=token)
    assert viewer_denied.returncode == 1 and "lacks the permission 'audit'" in viewer_denied.stderr
    assert bms(data, "token", "revoke", "laptop", "--for", "olga").returncode == 0
    gone = bms(data, "points", "list", token=token)
    assert gone.returncode == 1 and "token 'laptop' of 'olga' was revoked" in gone.stderr
    bms(data, "point", "release", "room1/sp", "--priority", "8")


def test_user_prompts_for_the_password_and_logs_in(data: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(cli, ["user", "add", "vic", "--role", "viewer", "--data", str(data)],
                          input="correct horse\ncorrect horse\n")
    assert added.exit_code == 0, added.output
    read = runner.invoke(cli, ["--user", "vic", "points", "list", "--json", "--data", str(data)],
                         input="correct horse\n")
    assert read.exit_code == 0, read.output
    wrong = runner.invoke(cli, ["--user", "vic", "points", "list", "--data", str(data)], input="guess\n")
    assert wrong.exit_code == 1 and "wrong user or password for 'vic'" in wrong.output
    denied = runner.invoke(cli, ["--user", "vic", "point", "write", "room1/sp", "22", "--data", str(data)],
                           input="correct horse\n")
    assert denied.exit_code == 1 and "lacks the permission 'write-points'" in denied.output
    logins = AuditLog(data / "audit.db", readonly=True).rows(action="login", user="vic")
    assert [r.entry.outcome for r in logins] == ["done", "refused", "done"]


def test_verify_through_the_daemon_is_intact(data: Path) -> None:
    done = bms(data, "audit", "verify")
    assert done.returncode == 0 and "audit log intact" in done.stdout, done.stderr


def test_kill_9_mid_write_leaves_no_broken_link_and_loses_no_acknowledged_write(tmp_path: Path) -> None:
    daemon = DaemonProcess(tmp_path, SITE)
    acknowledged: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()
    try:
        daemon.wait_for_event("running")
        wait_until(lambda: (tmp_path / "api.token").exists() and (tmp_path / "daemon.json").exists(), 10,
                   "the daemon's token")

        def writer(n: int) -> None:
            with ApiClient.from_data_dir(tmp_path) as client:
                i = 0
                while not stop.is_set():
                    value = round(16 + n + i / 10_000, 4)  # unique per write
                    try:
                        client.write("room1/sp", value, priority=9 + n)
                    except BmsError:
                        return  # the daemon is gone: this write was not acknowledged
                    with lock:
                        acknowledged.append(value)
                    i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        wait_until(lambda: len(acknowledged) >= 200, 60, "200 acknowledged writes")
        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait(10)
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        stop.set()
        daemon.close()
    log = AuditLog(tmp_path / "audit.db", readonly=True)
    verdict = log.verify()
    assert verdict.intact, verdict.reason
    recorded = {json.loads(r.entry.after)["value"] for r in log.rows(action="writePoint", limit=100_000)
                if r.entry.outcome == "done"}
    log.close()
    missing = [v for v in acknowledged if v not in recorded]
    assert not missing, f"{len(missing)} acknowledged writes have no audit row, e.g. {missing[:5]}"
    again = DaemonProcess(tmp_path, SITE)  # the chain goes on from the last committed row
    try:
        again.wait_for_event("running")
        with ApiClient.from_data_dir(tmp_path) as client:
            wait_until(lambda: _answers(client), 10, "the restarted daemon")
            client.write("room1/sp", 20.0, priority=16)
        assert again.terminate() == 0
    finally:
        again.close()
    log = AuditLog(tmp_path / "audit.db", readonly=True)
    assert log.verify().intact and log.verify().rows == verdict.rows + 1
    log.close()


def _answers(client: ApiClient) -> bool:
    try:
        client.health()
    except BmsError:
        return False
    return True
