"""`bms schedules` and `bms schedule`: what each command sends, the week it draws, and one line for each mistake."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from actors.components.schedules import _cli as schedules_cli
from bms.cli._app import cli
from bms.schedules import Assignment, OnDate, Override, Schedule, ScheduleBook, ScheduleException, template
from bms.schedules.messages import ScheduleSummary, ScheduleView, ZoneStart

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 12, 21, 12, 0, tzinfo=LONDON).timestamp()


def office_view() -> ScheduleView:
    book = ScheduleBook(LONDON)
    schedule = template("office", "office")
    schedule = Schedule(name="office", default=schedule.default, weekly=schedule.weekly,
                        exceptions=[ScheduleException(name="Christmas Day", when=OnDate(date="2026-12-25"))],
                        description=schedule.description)
    book.put(schedule)
    start = dt.datetime(2026, 12, 22, 6, 9, tzinfo=LONDON).timestamp()
    occupied = dt.datetime(2026, 12, 22, 7, 0, tzinfo=LONDON).timestamp()
    return ScheduleView(summary=book.summary("office", NOW), schedule=schedule, timezone="Europe/London",
                        assignments=[Assignment(points=["vav101/zone_sp"], values={"occupied": 21.0})],
                        points=["vav101/zone_sp"], override=Override(value="occupied", until=NOW + 3600, user="olga"),
                        week=book.week("office", dt.date(2026, 12, 21)),
                        zones=[ZoneStart(equip="vav101", zone_temp_point="vav101/zone_temp",
                                         setpoint_point="vav101/zone_sp", outdoor_point="ahu1/oat",
                                         occupied_at=occupied, start_at=start, lead_minutes=51.0, zone_temp=15.0,
                                         setpoint=21.0, outdoor=5.0, rates="warm-up 0.250 - 0.0100·Δt °/min")])


class Client:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def get(self, path: str, kind: Any, params: Any = None) -> Any:
        self.sent.append(("GET", path, params))
        view = office_view()
        return [view.summary] if kind == list[ScheduleSummary] else view

    def post(self, path: str, kind: Any, body: Any = None, **_: Any) -> Any:
        self.sent.append(("POST", path, json.loads(json.dumps(body, default=_plain))))
        return True if kind is bool else office_view()


def _plain(value: Any) -> Any:
    import msgspec

    return msgspec.to_builtins(value)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Client:
    made = Client()
    monkeypatch.setattr(schedules_cli, "connect", lambda data: made)
    monkeypatch.setattr(schedules_cli.console, "width", 160)
    return made


def bms(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_show_draws_the_week_with_exceptions_marked_and_the_zones_optimal_start(client: Client) -> None:
    shown = bms("schedule", "show", "office", "--week", "2026-12-21")
    assert shown.exit_code == 0, shown.output
    assert client.sent == [("GET", "/api/schedules/office", {"week": "2026-12-21"})]
    lines = shown.output.splitlines()
    monday = next(line for line in lines if "Mon 2026-12-21" in line)
    assert "07:00 occupied" in monday and "18:00 unoccupied" in monday and "weekly" in monday
    friday = next(line for line in lines if "Fri 2026-12-25" in line)
    assert "★ Christmas Day" in friday and "occupied" not in friday.replace("unoccupied", "")
    assert "override: occupied until Mon 21 Dec 13:00 (by olga)" in shown.output
    assert "assigned: vav101/zone_sp at priority 16 (occupied→21.0)" in shown.output
    zone = next(line for line in lines if line.lstrip("│ ").startswith("vav101"))
    assert "Tue 22 Dec 07:00" in zone and "Tue 22 Dec 06:09" in zone and "51 min" in zone
    assert "shown only: `bms schedule optimal-start office on` acts on it" in shown.output
    assert "vav101: warm-up 0.250 - 0.0100·Δt °/min" in shown.output
    as_json = json.loads(bms("schedule", "show", "office", "--json").output)
    assert as_json["zones"][0]["lead_minutes"] == 51.0


def test_list_shows_each_schedules_value_and_next_change(client: Client) -> None:
    listed = bms("schedules", "list")
    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if "office" in line)
    assert "occupied" in row and "Mon 21 Dec 18:00 → unoccupied" in row


@pytest.mark.parametrize(("args", "path", "body"), [
    (("schedule", "create", "lobby", "--template", "retail"), "/api/schedules", {"name": "lobby", "template": "retail"}),
    (("schedule", "set", "office", "mon-fri", "07:00=occupied", "18:00=unoccupied"), "/api/schedules/office/program",
     {"days": ["mon-fri"], "entries": [{"at": "07:00", "value": "occupied"}, {"at": "18:00", "value": "unoccupied"}]}),
    (("schedule", "except", "office", "2026-12-25", "unoccupied"), "/api/schedules/office/exceptions",
     {"exception": {"name": "2026-12-25", "when": {"kind": "date", "date": "2026-12-25"},
                    "program": [{"at": "00:00", "value": "unoccupied"}], "priority": 16}}),
    (("schedule", "except", "office", "2026-12-24..2026-12-31", "09:00=occupied", "13:00=unoccupied", "--name",
      "holidays", "--priority", "8"), "/api/schedules/office/exceptions",
     {"exception": {"name": "holidays", "when": {"kind": "range", "start": "2026-12-24", "end": "2026-12-31"},
                    "program": [{"at": "09:00", "value": "occupied"}, {"at": "13:00", "value": "unoccupied"}],
                    "priority": 8}}),
    (("schedule", "assign", "office", "ahu1/fan_cmd", "vav101/zone_sp", "--priority", "14", "--value", "occupied=21"),
     "/api/schedules/office/assign", {"points": ["ahu1/fan_cmd", "vav101/zone_sp"], "tags": [], "under": None,
                                      "priority": 14, "values": {"occupied": 21}}),
    (("schedule", "assign", "office", "--tag", "zone", "--tag", "sp", "--under", "floor1"),
     "/api/schedules/office/assign", {"points": [], "tags": ["zone", "sp"], "under": "floor1", "priority": 16,
                                      "values": {}}),
    (("schedule", "override", "office", "occupied", "--until", "22:00"), "/api/schedules/office/override",
     {"value": "occupied", "until": "22:00"}),
    (("schedule", "override", "office", "--cancel"), "/api/schedules/office/override/cancel", None),
    (("schedule", "delete", "office", "--yes"), "/api/schedules/office/delete", None),
    (("schedule", "optimal-start", "office", "on"), "/api/schedules/office/optimal-start", {"enabled": True}),
    (("schedule", "optimal-start", "office", "off"), "/api/schedules/office/optimal-start", {"enabled": False}),
])
def test_each_command_sends_what_the_operator_typed(client: Client, args: tuple[str, ...], path: str,
                                                    body: Any) -> None:
    done = bms(*args)
    assert done.exit_code == 0, done.output
    assert client.sent == [("POST", path, body)]


@pytest.mark.parametrize(("args", "message"), [
    (("schedule", "set", "office", "mon", "7am=occupied"), "'7am=occupied' is not TIME=VALUE"),
    (("schedule", "set", "office", "mon", "25:00=occupied"), "'25:00=occupied' is not TIME=VALUE"),
    (("schedule", "except", "office", "Christmas", "unoccupied"), "'Christmas' is not a date or a range"),
    (("schedule", "show", "office", "--week", "next"), "--week: 'next' is not a date"),
    (("schedule", "assign", "office"), "name the points"),
    (("schedule", "assign", "office", "a/b", "--value", "21"), "--value: '21' is not SCHEDULED=POINT"),
    (("schedule", "override", "office", "occupied"), "give VALUE and --until"),
    (("schedule", "create", "x", "--template", "hotel"), "hotel"),
    (("schedule", "delete", "office"), "add --yes"),
])
def test_mistakes_are_one_red_line_and_exit_1(client: Client, args: tuple[str, ...], message: str) -> None:
    done = bms(*args)
    assert done.exit_code == 1 and message in done.output, done.output
    assert done.output.count("\n") == 1 and done.output.startswith("error: ")
    assert client.sent == []
