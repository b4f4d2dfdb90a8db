"""The dispatcher on a manual time: notices at a raise, escalation levels, what stops them, flood digests."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bms.notify import AlarmFacts, Dispatcher, EscalationStep, NotifySection, Recipient, RoutingRule

UTC = ZoneInfo("UTC")
T0 = 1_765_000_000.0  # a Saturday


def people(*names: str) -> list[Recipient]:
    return [Recipient(name=n, url=f"json://127.0.0.1:1/{n}") for n in names]


def dispatcher(digest_interval: float = 300.0) -> Dispatcher:
    section = NotifySection(
        recipients=people("ops", "supervisor", "manager", "fitter"),
        rules=[
            RoutingRule(name="all", recipients=["ops"], escalation=[
                EscalationStep(after_minutes=15, recipients=["supervisor"]),
                EscalationStep(after_minutes=30, recipients=["manager"]),
            ]),
            RoutingRule(name="plant", recipients=["fitter"], tags=["ahu"]),
        ],
        digest_interval=digest_interval)
    return Dispatcher(section, UTC)


def alarm(alarm_id: str = "a1", severity: str = "high", **kw: object) -> AlarmFacts:
    return AlarmFacts(alarm_id=alarm_id, point_id=f"{alarm_id}/pt", severity=severity, text=f"{alarm_id} is high",
                      ts=T0, point_name=f"{alarm_id} point", **kw)  # type: ignore[arg-type]


def sent(notices: list) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    return [(n.recipient, n.kind, n.level) for n in notices]


def test_a_raise_notifies_the_recipients_of_every_matching_rule() -> None:
    d = dispatcher()
    out = d.raised(alarm(tags=frozenset({"ahu"})), T0)
    assert sent(out) == [("ops", "alarm", 1), ("fitter", "alarm", 1)]
    assert out[0].title == "[HIGH] a1 is high"
    assert "Point: a1 point (a1/pt)" in out[0].body and "Severity: high" in out[0].body
    assert out[0].alarm_ids == ("a1",)


# (minutes after the raise, what is due then) for an alarm nobody acknowledges
ESCALATION = [
    (14.9, []),
    (15.0, [("supervisor", "escalation", 2)]),
    (44.9, []),
    (45.0, [("manager", "escalation", 3)]),
    (600.0, []),  # three levels, no more
]


def test_escalation_not_acknowledged_goes_up_a_level_at_a_time() -> None:
    d = dispatcher()
    d.raised(alarm(), T0)
    for minutes, due in ESCALATION:
        out = d.due(T0 + minutes * 60)
        assert sent(out) == due, minutes
    assert not d.escalating("a1")


def test_level_two_says_how_long_nobody_acknowledged() -> None:
    d = dispatcher()
    d.raised(alarm(), T0)
    (notice,) = d.due(T0 + 15 * 60)
    assert notice.title == "[HIGH] escalation level 2: a1 is high"
    assert "not acknowledged for 15 min" in notice.body
    (notice,) = d.due(T0 + 45 * 60)
    assert "Escalation level 3: not acknowledged for 45 min" in notice.body


@pytest.mark.parametrize("settled_after", [1.0, 20.0])
def test_an_acknowledgement_stops_the_escalation(settled_after: float) -> None:
    d = dispatcher()
    d.raised(alarm(), T0)
    d.due(T0 + settled_after * 60)
    assert d.settled("a1") == 1
    assert d.due(T0 + 3600) == []
    assert d.next_due() is None


def test_a_raise_again_restarts_its_escalation_from_level_one() -> None:
    d = dispatcher()
    d.raised(alarm(), T0)
    assert sent(d.due(T0 + 15 * 60)) == [("supervisor", "escalation", 2)]
    d.raised(alarm(), T0 + 20 * 60)  # an unshelve still unacknowledged
    assert d.due(T0 + 34 * 60) == []
    assert sent(d.due(T0 + 35 * 60)) == [("supervisor", "escalation", 2)]


def test_a_flood_is_one_digest_per_recipient_listing_every_alarm() -> None:
    d = dispatcher(digest_interval=300)
    out = []
    for i in range(12):
        out += d.raised(alarm(f"a{i}", severity="critical" if i == 5 else "medium",
                              tags=frozenset({"ahu"}) if i < 2 else frozenset()), T0 + i, flood=True)
    assert out == []  # nothing before the digest is due
    assert d.due(T0 + 299) == []
    digests = d.due(T0 + 300)
    assert sent(digests) == [("ops", "digest", 1), ("fitter", "digest", 1)]
    ops, fitter = digests
    assert ops.alarm_ids == tuple(f"a{i}" for i in range(12))
    assert fitter.alarm_ids == ("a0", "a1")
    assert ops.title == "[CRITICAL] alarm flood: 12 alarm(s)"
    assert all(f"a{i} is high" in ops.body for i in range(12))
    assert d.due(T0 + 900) != []  # the escalations of the flooded alarms are still armed


def test_an_alarm_after_the_flood_joins_a_digest_still_open_then_goes_alone() -> None:
    d = dispatcher(digest_interval=300)
    d.raised(alarm("a1"), T0, flood=True)
    assert d.raised(alarm("a2"), T0 + 10) == []  # the flood ended, ops's digest is still open
    assert [n.alarm_ids for n in d.due(T0 + 300)] == [("a1", "a2")]
    assert sent(d.raised(alarm("a3"), T0 + 400)) == [("ops", "alarm", 1)]
