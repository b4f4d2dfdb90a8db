"""Routing as tables: time windows in the site's timezone, and each filter of a rule."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bms.notify import AlarmFacts, NotifySection, Recipient, Routing, RoutingRule, TimeWindow, window_open

LONDON = ZoneInfo("Europe/London")
BUSINESS = TimeWindow(days=["mon", "tue", "wed", "thu", "fri"], start="07:00", end="18:00")
NIGHT = TimeWindow(days=["mon", "tue", "wed", "thu", "fri"], start="22:00", end="06:00")
WEEKEND = TimeWindow(days=["sat", "sun"])


@pytest.mark.parametrize(("window", "local", "open_"), [
    (BUSINESS, "2026-12-07 07:00", True),    # Monday, opening minute
    (BUSINESS, "2026-12-07 06:59", False),
    (BUSINESS, "2026-12-07 17:59", True),
    (BUSINESS, "2026-12-07 18:00", False),   # the end is not in it
    (BUSINESS, "2026-12-05 12:00", False),   # Saturday
    (WEEKEND, "2026-12-05 00:00", True),
    (WEEKEND, "2026-12-06 23:59", True),     # Sunday night
    (WEEKEND, "2026-12-07 00:00", False),    # Monday
    (NIGHT, "2026-12-07 23:00", True),       # Monday night
    (NIGHT, "2026-12-08 05:59", True),       # Tuesday small hours belong to Monday's night
    (NIGHT, "2026-12-08 06:00", False),
    (NIGHT, "2026-12-07 05:00", False),      # Monday small hours: Sunday night is not listed
    (NIGHT, "2026-12-12 01:00", True),       # Saturday small hours: Friday's night
    (TimeWindow(days=["wed"], start="00:00", end="00:00"), "2026-12-09 13:00", True),  # start == end: all day
])
def test_a_window_is_open_on_its_days_and_hours(window: TimeWindow, local: str, open_: bool) -> None:
    at = datetime.fromisoformat(local).replace(tzinfo=LONDON)
    assert window_open(window, at) is open_


def alarm(**kw: object) -> AlarmFacts:
    base: dict[str, object] = {"alarm_id": "ahu1/sat-high", "point_id": "ahu1/sat", "severity": "high",
                               "text": "Supply air temperature high", "ts": 0.0, "alarm_class": "hvac",
                               "tags": frozenset({"ahu", "equip", "temp", "sensor"}),
                               "ancestors": frozenset({"ahu1", "plantroom", "site"})}
    base.update(kw)
    return AlarmFacts(**base)  # type: ignore[arg-type]


PEOPLE = [Recipient(name=n, url=f"json://127.0.0.1:1/{n}") for n in ("ops", "night", "boss", "fitter")]


def routing(*rules: RoutingRule, tz: ZoneInfo = LONDON) -> Routing:
    section = NotifySection(recipients=[*PEOPLE, Recipient(name="away", url="json://127.0.0.1:1/a", enabled=False)],
                            rules=list(rules), windows={"business-hours": BUSINESS, "weekends": WEEKEND})
    return Routing(section, tz)


MONDAY_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=LONDON).timestamp()
MONDAY_NIGHT = datetime(2026, 12, 7, 23, 0, tzinfo=LONDON).timestamp()
SATURDAY_NOON = datetime(2026, 12, 5, 12, 0, tzinfo=LONDON).timestamp()


@pytest.mark.parametrize(("rule", "facts", "now", "matches"), [
    (RoutingRule(name="r", recipients=["ops"]), alarm(), MONDAY_NOON, True),  # no filter: everything
    (RoutingRule(name="r", recipients=["ops"], severities=["critical"]), alarm(), MONDAY_NOON, False),
    (RoutingRule(name="r", recipients=["ops"], severities=["high", "critical"]), alarm(), MONDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], min_severity="high"), alarm(severity="medium"), MONDAY_NOON, False),
    (RoutingRule(name="r", recipients=["ops"], min_severity="high"), alarm(severity="critical"), MONDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], classes=["safety"]), alarm(), MONDAY_NOON, False),
    (RoutingRule(name="r", recipients=["ops"], classes=["hvac"]), alarm(), MONDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], tags=["ahu", "temp"]), alarm(), MONDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], tags=["ahu", "pressure"]), alarm(), MONDAY_NOON, False),
    (RoutingRule(name="r", recipients=["ops"], under=["plantroom"]), alarm(), MONDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], under=["ahu1/sat"]), alarm(), MONDAY_NOON, True),  # the point itself
    (RoutingRule(name="r", recipients=["ops"], under=["vav1"]), alarm(), MONDAY_NOON, False),
    (RoutingRule(name="r", recipients=["ops"], during=["business-hours"]), alarm(), MONDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], during=["business-hours"]), alarm(), MONDAY_NIGHT, False),
    (RoutingRule(name="r", recipients=["ops"], outside=["business-hours"]), alarm(), MONDAY_NIGHT, True),  # after hours
    (RoutingRule(name="r", recipients=["ops"], outside=["business-hours"]), alarm(), SATURDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], outside=["business-hours"]), alarm(), MONDAY_NOON, False),
    (RoutingRule(name="r", recipients=["ops"], during=["weekends"]), alarm(), SATURDAY_NOON, True),
    (RoutingRule(name="r", recipients=["ops"], during=["weekends"], min_severity="critical"), alarm(), SATURDAY_NOON,
     False),
])
def test_a_rule_matches_on_every_filter(rule: RoutingRule, facts: AlarmFacts, now: float, matches: bool) -> None:
    assert [r.name for r in routing(rule).rules(facts, now)] == (["r"] if matches else [])


def test_windows_are_read_in_the_sites_timezone() -> None:
    rule = RoutingRule(name="day", recipients=["ops"], during=["business-hours"])
    # 12:00 UTC on a Monday is 07:00 in New York... and 04:00 in Los Angeles: open in one, closed in the other
    noon_utc = datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert routing(rule, tz=ZoneInfo("America/New_York")).rules(alarm(), noon_utc)
    assert not routing(rule, tz=ZoneInfo("America/Los_Angeles")).rules(alarm(), noon_utc)


def test_recipients_of_every_matching_rule_once_enabled_ones_only() -> None:
    r = routing(
        RoutingRule(name="all", recipients=["ops", "away"]),
        RoutingRule(name="nights", recipients=["night", "ops"], outside=["business-hours"]),
        RoutingRule(name="critical", recipients=["boss"], min_severity="critical"),
    )
    assert [p.name for p in r.recipients(alarm(), MONDAY_NOON)] == ["ops"]
    assert [p.name for p in r.recipients(alarm(), MONDAY_NIGHT)] == ["ops", "night"]
    assert [p.name for p in r.recipients(alarm(severity="critical"), MONDAY_NIGHT)] == ["ops", "night", "boss"]
