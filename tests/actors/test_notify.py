"""The notifier component against real servers on loopback: SMTP (aiosmtpd) and HTTP (apprise's json://).

The alarm events are published through the registry as the alarm engine
publishes them; time moves on a manual clock (escalations, digests, retries).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import ChildSpec, Context, make_context
from actors.components.nodes._store import ModelStore
from actors.components.notify import Notifier
from bms.alarms import AlarmAcknowledged, AlarmCleared, AlarmRaised, AlarmShelved, AlarmUnshelved
from bms.clock import ManualClock
from bms.config import load_scenario
from bms.errors import NotFound
from bms.notify import (
    EscalationStep,
    ListNotifications,
    NotificationRecord,
    NotifySection,
    Recipient,
    RetryPolicy,
    RoutingRule,
    SendTestNotification,
)
from bms.supervision import Health
from tests.conftest import ROOT, wait_until
from tests.notify_servers import JsonServer, SmtpServer, closed_port, json_server, smtp_server

SITE = ROOT / "tests/data/site.toml"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def hook() -> Iterator[JsonServer]:
    with json_server() as server:
        yield server


def start(ctx: Context, section: NotifySection, model: bool = True) -> None:
    if model:
        assert ctx.supervisor.start_child(ChildSpec("nodes", ModelStore, kwargs={"site": load_scenario(SITE)}))
    assert ctx.supervisor.start_child(ChildSpec("notify", Notifier, kwargs={"section": section})) is not None


def raised(alarm_id: str = "room1/temp-high", point_id: str = "room1/temp", severity: str = "high",
           ts: float = 1_700_000_000.0, **kw: object) -> AlarmRaised:
    return AlarmRaised(alarm_id=alarm_id, point_id=point_id, severity=severity, alarm_class="comfort",
                       text="Room Temp high: 27.5 °C above 26", ts=ts, value=27.5, **kw)  # type: ignore[arg-type]


def log(ctx: Context, **kw: object) -> list[NotificationRecord]:
    out: list[NotificationRecord] = ctx.registry.get("notify").ask(ListNotifications(since=0.0, **kw))  # type: ignore[arg-type]
    return out


def statuses(ctx: Context) -> list[tuple[str, str, str, int]]:
    return [(r.recipient, r.kind, r.status, r.attempts) for r in log(ctx)]


def tick_once(ctx: Context, clock: ManualClock, seconds: float) -> None:
    """Move the clock ``seconds`` on, the ticker waiting on it first (so its ticks fire from the new time)."""
    assert clock.wait_for_waiters(1)
    clock.advance(seconds)


def test_an_alarm_goes_out_by_email_and_as_json_with_its_text_severity_and_point(
        ctx: Context, smtp: SmtpServer, hook: JsonServer) -> None:
    start(ctx, NotifySection(recipients=[Recipient(name="ops", url=smtp.url), Recipient(name="bms-hook", url=hook.url)],
                             rules=[RoutingRule(name="all", recipients=["ops", "bms-hook"])]))
    ctx.registry.publish(raised())

    (mail,) = smtp.messages(1)
    assert mail["Subject"] == "[HIGH] Room Temp high: 27.5 °C above 26"
    assert mail["To"] == "ops@example.org"
    text = SmtpServer.text(mail)
    for expected in ("Room Temp high: 27.5 °C above 26", "Severity: high", "Point: Room Temp (room1/temp)",
                     "Value: 27.5 °C", "Class: comfort", "Alarm: room1/temp-high"):
        assert expected in text, text

    (payload,) = hook.payloads(1)
    assert payload["_path"] == "/hook"
    assert payload["title"] == "[HIGH] Room Temp high: 27.5 °C above 26"
    assert "Point: Room Temp (room1/temp)" in payload["message"] and "Severity: high" in payload["message"]
    assert payload["type"] == "failure"  # high and critical alarms are apprise failures (red on the channels)

    wait_until(lambda: sorted(statuses(ctx)) == [("bms-hook", "alarm", "sent", 1), ("ops", "alarm", "sent", 1)],
               what="both notifications logged as sent")
    assert {r.channel for r in log(ctx)} == {"mailto", "json"}
    assert [r.alarm_ids for r in log(ctx, alarm_id="room1/temp-high")] == [("room1/temp-high",)] * 2
    assert ctx.health.get("notify").state == Health.HEALTHY.value  # type: ignore[union-attr]


def test_a_dead_recipient_is_retried_with_backoff_while_the_others_get_theirs_at_once(
        ctx: Context, clock: ManualClock, hook: JsonServer) -> None:
    dead = f"json://127.0.0.1:{closed_port()}/down"
    start(ctx, NotifySection(
        recipients=[Recipient(name="pager", url=dead), Recipient(name="bms-hook", url=hook.url)],
        rules=[RoutingRule(name="all", recipients=["pager", "bms-hook"])],
        retry=RetryPolicy(max_attempts=4, initial=60.0, factor=2.0, failing_after=2)), model=False)
    t0 = clock.now()
    ctx.registry.publish(raised(ts=t0))
    hook.payloads(1)

    def pager() -> NotificationRecord:
        return next(r for r in log(ctx) if r.recipient == "pager")

    wait_until(lambda: pager().status == "retrying", what="the first attempt to fail")
    first = pager()
    assert first.attempts == 1 and first.next_attempt == t0 + 60 and "127.0.0.1" in first.error

    # while the pager waits for its next attempt, another alarm reaches the hook at once, no clock needed
    ctx.registry.publish(raised(alarm_id="room1/temp-low", ts=t0))
    assert hook.payloads(2)[1]["title"].startswith("[HIGH]")
    wait_until(lambda: [r.status for r in log(ctx) if r.recipient == "pager"] == ["retrying"] * 2,
               what="the second alarm's first attempt to the pager to fail too (before the clock moves)")

    # each retry after the backoff: 60 s, then 120 s, then 240 s; the fourth attempt is the last
    for attempt, wait in ((2, 60.0), (3, 120.0), (4, 240.0)):
        tick_once(ctx, clock, wait - 1)
        assert all(r.attempts == attempt - 1 for r in log(ctx) if r.recipient == "pager" and r.kind == "alarm"
                   and r.alarm_ids == ("room1/temp-high",))
        tick_once(ctx, clock, 1)
        wait_until(lambda a=attempt: pager().attempts == a and pager().status in ("retrying", "failed"),  # type: ignore[misc]
                   timeout=30, what=f"attempt {attempt}")  # apprise's delivery thread, slow on a loaded machine
    assert pager().status == "failed" and pager().next_attempt is None

    wait_until(lambda: ctx.health.get("notify").state == Health.DEGRADED.value,  # type: ignore[union-attr]
               what="Degraded naming the pager")
    assert "recipient 'pager' keeps failing" in ctx.health.get("notify").reason  # type: ignore[union-attr]
    assert [r.status for r in log(ctx) if r.recipient == "bms-hook"] == ["sent", "sent"]


def test_a_recipient_that_never_answers_delays_nobody_else(ctx: Context, hook: JsonServer) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers a request
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        start(ctx, NotifySection(
            recipients=[Recipient(name="stuck", url=f"json://127.0.0.1:{port}/?rto=30"),
                        Recipient(name="bms-hook", url=hook.url)],
            rules=[RoutingRule(name="all", recipients=["stuck", "bms-hook"])]), model=False)
        for i in range(3):
            ctx.registry.publish(raised(alarm_id=f"a{i}"))
        assert len(hook.payloads(3)) == 3
        wait_until(lambda: [r.status for r in log(ctx) if r.recipient == "bms-hook"] == ["sent"] * 3,
                   what="the hook's three notifications sent")
        assert [r.status for r in log(ctx) if r.recipient == "stuck"] == ["sending"] * 3


def test_escalation_on_the_clock_stops_for_the_alarm_acknowledged(
        ctx: Context, clock: ManualClock, hook: JsonServer) -> None:
    start(ctx, NotifySection(
        recipients=[Recipient(name=n, url=f"{hook.url}/{n}") for n in ("ops", "supervisor", "manager")],
        rules=[RoutingRule(name="all", recipients=["ops"], escalation=[
            EscalationStep(after_minutes=15, recipients=["supervisor"]),
            EscalationStep(after_minutes=15, recipients=["manager"])])]), model=False)
    for alarm_id in ("left", "acked", "cleared", "shelved"):
        ctx.registry.publish(raised(alarm_id=alarm_id, ts=clock.now()))
    hook.payloads(4)
    now = clock.now()
    ctx.registry.publish(AlarmAcknowledged(alarm_id="acked", point_id="room1/temp", user="alice", ts=now))
    ctx.registry.publish(AlarmCleared(alarm_id="cleared", point_id="room1/temp", ts=now, state="normal"))
    ctx.registry.publish(AlarmShelved(alarm_id="shelved", point_id="room1/temp", user="bob", ts=now, until=now + 7200,
                                      reason="sensor replaced"))
    ctx.registry.get("notify").ask(ListNotifications(since=0.0))  # the three events are handled before the clock moves

    tick_once(ctx, clock, 15 * 60)
    level2 = hook.payloads(5)[4]
    assert level2["_path"] == "/hook/supervisor"
    assert level2["title"] == "[HIGH] escalation level 2: Room Temp high: 27.5 °C above 26"
    tick_once(ctx, clock, 15 * 60)
    level3 = hook.payloads(6)[5]
    assert level3["_path"] == "/hook/manager" and "escalation level 3" in level3["title"]
    wait_until(lambda: len(log(ctx)) == 6 and all(r.status == "sent" for r in log(ctx)), what="six sent")
    assert [(r.recipient, r.kind, r.level, r.alarm_ids) for r in log(ctx) if r.kind == "escalation"] == [
        ("supervisor", "escalation", 2, ("left",)), ("manager", "escalation", 3, ("left",))]


def test_a_flood_is_one_digest_per_recipient(ctx: Context, clock: ManualClock, smtp: SmtpServer) -> None:
    start(ctx, NotifySection(recipients=[Recipient(name="ops", url=smtp.url)],
                             rules=[RoutingRule(name="all", recipients=["ops"])], digest_interval=120.0))
    for i in range(10):
        ctx.registry.publish(raised(alarm_id=f"room1/alarm-{i}", ts=clock.now(), flood=True))
    assert log(ctx) == []
    tick_once(ctx, clock, 120)
    (mail,) = smtp.messages(1)
    assert mail["Subject"] == "[HIGH] alarm flood: 10 alarm(s)"
    text = SmtpServer.text(mail)
    assert all(f"room1/alarm-{i}" in text for i in range(10)) and "Room Temp (room1/temp) = 27.5 °C" in text
    wait_until(lambda: [r.status for r in log(ctx)] == ["sent"], what="the digest sent")
    (record,) = log(ctx)
    assert record.kind == "digest" and len(record.alarm_ids) == 10
    assert [r.kind for r in log(ctx, alarm_id="room1/alarm-7")] == ["digest"]
    assert len(smtp.inbox.items) == 1


def test_what_is_not_to_be_notified_is_not_and_an_unshelve_annunciates_again(
        ctx: Context, hook: JsonServer) -> None:
    start(ctx, NotifySection(recipients=[Recipient(name="bms-hook", url=hook.url)],
                             rules=[RoutingRule(name="temps", recipients=["bms-hook"], tags=["temp", "room"],
                                                under=["zone1"]),
                                    RoutingRule(name="critical", recipients=["bms-hook"], min_severity="critical")]))
    ctx.registry.publish(raised(alarm_id="quiet", notify=False))  # shelved or chattering: recorded, not annunciated
    ctx.registry.publish(raised(alarm_id="elsewhere", point_id="ahu9/sat"))  # not under zone1, no tags: no rule
    ctx.registry.publish(AlarmUnshelved(alarm_id="quiet", point_id="room1/temp", user="", ts=1.0,
                                        state="unacknowledged"))
    (payload,) = hook.payloads(1)
    assert payload["title"] == "[HIGH] Room Temp high: 27.5 °C above 26"
    wait_until(lambda: [r.alarm_ids for r in log(ctx)] == [("quiet",)] and log(ctx)[0].status == "sent",
               what="only the unshelved alarm")


def test_a_test_message_and_the_refusals(ctx: Context, smtp: SmtpServer) -> None:
    start(ctx, NotifySection(recipients=[Recipient(name="ops", url=smtp.url),
                                         Recipient(name="typo", url="notaservice://somewhere")]), model=False)
    notifier = ctx.registry.get("notify")
    record: NotificationRecord = notifier.ask(SendTestNotification(recipient="ops"), timeout=30)
    assert (record.status, record.kind, record.attempts, record.error) == ("sent", "test", 1, "")
    (mail,) = smtp.messages(1)
    assert mail["Subject"] == "bms: test notification" and "recipient 'ops'" in SmtpServer.text(mail)

    with pytest.raises(NotFound, match=r"no recipient named 'opz' in \[notify\] \(did you mean 'ops'\?\)"):
        notifier.ask(SendTestNotification(recipient="opz"))
    with pytest.raises(Exception, match="recipient 'typo': apprise cannot use this notaservice:// URL"):
        notifier.ask(SendTestNotification(recipient="typo"))
    health = ctx.health.get("notify")
    assert health is not None and health.state == Health.DEGRADED.value
    assert "recipient 'typo' cannot be used" in health.reason


def test_deliveries_cut_short_by_a_stop_are_tried_again_at_the_next_start(
        ctx: Context, clock: ManualClock, tmp_path: Path) -> None:
    port = closed_port()
    section = NotifySection(recipients=[Recipient(name="bms-hook", url=f"json://127.0.0.1:{port}/hook")],
                            rules=[RoutingRule(name="all", recipients=["bms-hook"])],
                            retry=RetryPolicy(initial=30.0))
    start(ctx, section, model=False)
    ctx.registry.publish(raised())
    wait_until(lambda: [r.status for r in log(ctx)] == ["retrying"], what="a failed first attempt")
    ctx.supervisor.stop_all()

    later = make_context(clock, tmp_path)
    try:
        with json_server() as hook:
            section2 = NotifySection(recipients=[Recipient(name="bms-hook", url=hook.url)],
                                     rules=section.rules, retry=section.retry)
            start(later, section2, model=False)
            tick_once(later, clock, 30)
            (payload,) = hook.payloads(1)
            assert payload["title"].startswith("[HIGH] Room Temp high")
            wait_until(lambda: [(r.status, r.attempts) for r in log(later)] == [("sent", 2)], what="sent on retry")
    finally:
        later.supervisor.stop_all()


def test_the_component_end_to_end_through_the_platform(tmp_path: Path, smtp: SmtpServer) -> None:
    """The installed descriptors (nodes and notify) started by a Platform; an AlarmRaised published on its registry."""
    from actors.components.nodes import COMPONENT as NODES
    from actors.components.notify import COMPONENT as NOTIFY
    from actors.platform import Platform
    from bms.config import Settings

    section = NotifySection(recipients=[Recipient(name="ops", url=smtp.url)],
                            rules=[RoutingRule(name="room", recipients=["ops"], under=["zone1"], tags=["temp"])])
    platform = Platform(Settings(sections={"notify": section}), load_scenario(SITE), tmp_path, clock=ManualClock(),
                        components=[NODES, NOTIFY])
    try:
        platform.start()
        assert platform.started == ["nodes", "notify"]
        platform.ctx.registry.publish(raised(severity="critical"))
        (mail,) = smtp.messages(1)
        assert mail["Subject"] == "[CRITICAL] Room Temp high: 27.5 °C above 26"
        assert "Point: Room Temp (room1/temp)" in SmtpServer.text(mail)
        assert (tmp_path / "notifications.db").exists()
    finally:
        assert platform.stop() == []
