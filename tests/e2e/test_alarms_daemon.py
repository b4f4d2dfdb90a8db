"""Alarms through a real `bms daemon`: an operator raises, lists, acknowledges, shelves and reads the history.

The site is the virtual room of tests/data with one site alarm on its
setpoint (high limit 25 °C, no delay): writing the setpoint drives it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bms.cli import cli
from tests.conftest import wait_until
from tests.e2e.daemon import running, virtual_room

ALARM = "room1/sp:high"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("alarms")
    scenario = virtual_room(path, """
[[alarms]]
id = "room1/sp:high"
point = "room1/sp"
condition = { type = "high", limit = 25.0, deadband = 0.5 }
severity = "high"
message = "{name} too high: {value}{unit}"
""")
    with running(path / "data", scenario):
        yield path / "data"


def bms(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--data", str(data)])


def test_an_operator_works_an_alarm_from_raise_to_history(data: Path) -> None:
    assert bms(data, "point", "write", "room1/sp", "26", "--priority", "8").exit_code == 0
    wait_until(lambda: json.loads(bms(data, "alarms", "list", "--active", "--json").output), what="the alarm raised")
    listed = bms(data, "alarms", "list", "--active")
    assert listed.exit_code == 0 and ALARM in listed.output and "unacknowledged" in listed.output
    shown = json.loads(bms(data, "alarm", "show", ALARM, "--json").output)
    assert (shown["state"], shown["text"], shown["severity"]) == ("unacknowledged", "Room Temp Setpoint too high: 26°C",
                                                                  "high")
    acked = bms(data, "alarm", "ack", ALARM)
    assert acked.exit_code == 0 and f"acknowledged 1 alarm(s): {ALARM}" in acked.output
    again = bms(data, "alarm", "ack", ALARM)
    assert again.exit_code == 1 and "nothing to acknowledge" in again.output
    shelved = bms(data, "alarm", "shelve", ALARM, "--for", "2h", "--reason", "commissioning the room")
    assert shelved.exit_code == 0 and "shelved until" in shelved.output
    assert json.loads(bms(data, "alarm", "show", ALARM, "--json").output)["state"] == "shelved"
    assert bms(data, "alarm", "unshelve", ALARM).exit_code == 0
    assert bms(data, "point", "release", "room1/sp", "--priority", "8").exit_code == 0
    wait_until(lambda: json.loads(bms(data, "alarm", "show", ALARM, "--json").output)["active"] is False,
               what="the alarm cleared")
    events = json.loads(bms(data, "alarms", "history", "--since", "1h", "--json").output)
    assert [e["event"] for e in events if e["alarm_id"] == ALARM] == [
        "raised", "acknowledged", "shelved", "unshelved", "cleared"]
    audited = json.loads(bms(data, "audit", "list", "--since", "1h", "--json").output)
    actions = [(row["action"], row["outcome"]) for row in (r.get("entry", r) for r in audited)
               if row["action"] in ("ackAlarms", "shelveAlarm", "unshelveAlarm")]
    assert actions == [("ackAlarms", "done"), ("ackAlarms", "refused"), ("shelveAlarm", "done"),
                       ("unshelveAlarm", "done")]  # each with its user, the refused second ack included


@pytest.mark.parametrize(("args", "message"), [
    (("alarm", "show", "nope"), "no alarm 'nope'"),
    (("alarm", "ack"), "name the alarms to acknowledge, or give --all"),
    (("alarm", "shelve", ALARM, "--reason", "x"), "give --for or --until"),
    (("alarm", "shelve", ALARM, "--for", "banana", "--reason", "x"), "banana"),
    (("alarms", "list", "--severity", "urgent"), "urgent"),
    (("alarm", "add", "room1/nope", "--high", "3"), "room1/nope"),
    (("alarm", "add", "room1/temp", "--high", "3", "--low", "1"), "exactly one condition"),
    (("alarm", "remove", ALARM), "comes from the configuration"),
])
def test_mistakes_are_one_line_and_exit_1(data: Path, args: tuple[str, ...], message: str) -> None:
    result = bms(data, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_an_alarm_defined_at_run_time_works_and_goes(data: Path) -> None:
    added = bms(data, "alarm", "add", "room1/temp", "--low", "22", "--severity", "low")
    assert added.exit_code == 0 and "alarm room1/temp:low defined" in added.output
    wait_until(lambda: json.loads(bms(data, "alarm", "show", "room1/temp:low", "--json").output)["active"],
               what="21 °C is below 22")
    ack_all = bms(data, "alarm", "ack", "--all", "--severity", "low")
    assert ack_all.exit_code == 0 and "room1/temp:low" in ack_all.output
    assert bms(data, "alarm", "remove", "room1/temp:low").exit_code == 0
    assert bms(data, "alarm", "show", "room1/temp:low").exit_code == 1


def test_the_alarm_stream_carries_each_event_and_the_toolbar_counts(data: Path) -> None:
    from actors.components.alarms._cli import unacknowledged
    from bms.alarms import AlarmAcknowledged, AlarmRaised, decode_event
    from bms.client import ApiClient

    with ApiClient.from_data_dir(data) as api, api.events("/api/alarms/stream", decoder=decode_event) as events:
        api.write("room1/sp", 27.0, priority=9)
        raised = next(events)
        assert isinstance(raised, AlarmRaised) and (raised.alarm_id, raised.value) == (ALARM, 27.0)
        assert unacknowledged(api) == "alarms: 1 unacknowledged, 1 active"
        assert bms(data, "alarm", "ack", "--all").exit_code == 0
        acked = next(events)
        assert isinstance(acked, AlarmAcknowledged) and acked.user
        assert unacknowledged(api) == "alarms: 0 unacknowledged, 1 active"
        api.relinquish("room1/sp", priority=9)
