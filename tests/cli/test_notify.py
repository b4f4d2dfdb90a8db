"""``bms notifications list`` and ``bms notify test`` without a daemon: the log read from notifications.db,
the test message sent from the CLI's own process to a real HTTP server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bms.cli import cli, console
from bms.notify import Deliveries, Notice, NotificationLog, RetryPolicy
from tests.notify_servers import closed_port, json_server


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="bms")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def fill_log(data: Path, now: float) -> None:
    log = NotificationLog(data / "notifications.db")
    d = Deliveries(RetryPolicy())
    old = d.start(Notice(recipient="ops", kind="alarm", alarm_ids=("ahu1/sat-high",), title="old", body="b"),
                  "mailto", now - 3 * 86400)
    d.outcome(old.id, "", now - 3 * 86400)
    sent = d.start(Notice(recipient="ops", kind="alarm", alarm_ids=("ahu1/sat-high",), title="t", body="b",
                          severity="high"), "mailto", now - 3600)
    d.outcome(sent.id, "", now - 3599)
    failing = d.start(Notice(recipient="pager", kind="escalation", alarm_ids=("vav1/temp-low",), title="t", body="b",
                             level=2), "json", now - 60)
    d.outcome(failing.id, "A Connection error occurred sending JSON notification to 127.0.0.1.", now - 59)
    for one in (old, sent, failing):
        log.write(one)
    log.close()


def test_the_log_without_a_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(console, "width", 160)
    fill_log(tmp_path, time.time())
    code, out, _ = run("notifications", "list", "--data", str(tmp_path), "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["recipient"], r["kind"], r["status"]) for r in rows] == [("ops", "alarm", "sent"),
                                                                       ("pager", "escalation", "retrying")]
    code, out, _ = run("notifications", "list", "--data", str(tmp_path), "--since", "7d", "--alarm", "ahu1/sat-high",
                       "--json")
    assert [r["title"] for r in json.loads(out)] == ["old", "t"]
    code, out, _ = run("notifications", "list", "--data", str(tmp_path))
    assert code == 0
    assert "escalation L2" in out and "retrying" in out and "2 notification(s)" in out


def test_no_log_yet_is_an_empty_list(tmp_path: Path) -> None:
    code, out, _ = run("notifications", "list", "--data", str(tmp_path), "--json")
    assert (code, json.loads(out)) == (0, [])


def test_a_bad_since_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("notifications", "list", "--data", str(tmp_path), "--since", "banana")
    assert code == 1 and err.startswith("error: ") and "banana" in err and len(err.strip().splitlines()) == 1


def settings(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "bms.toml"
    path.write_text(f'[[notify.recipients]]\nname = "bms-hook"\nurl = "{url}"\n\n'
                    f'[[notify.recipients]]\nname = "down"\nurl = "json://127.0.0.1:{closed_port()}/"\n')
    return path


def test_a_test_message_without_a_daemon(tmp_path: Path) -> None:
    with json_server() as hook:
        conf = settings(tmp_path, hook.url)
        code, out, _ = run("notify", "test", "bms-hook", "--config", str(conf), "--data", str(tmp_path / "data"))
        assert code == 0, out
        assert "test notification sent to bms-hook (json)" in out
        (payload,) = hook.payloads(1)
        assert payload["title"] == "bms: test notification" and "'bms-hook'" in payload["message"]

        code, _, err = run("notify", "test", "down", "--config", str(conf), "--data", str(tmp_path / "data"))
        assert code == 1
        assert err.startswith("error: test notification to 'down' (json) failed: A Connection error occurred")

        code, _, err = run("notify", "test", "nobody", "--config", str(conf), "--data", str(tmp_path / "data"),
                           "--json")
        assert code == 1
        assert json.loads(err) == {"error": "no recipient named 'nobody' in [notify] (recipients: bms-hook, down)"}
