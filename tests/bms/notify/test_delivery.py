"""Deliveries: retries with exponential backoff, the recipients that keep failing, and notifications.db."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms.notify import Deliveries, Notice, NotificationLog, RetryPolicy

POLICY = RetryPolicy(max_attempts=4, initial=10.0, factor=3.0, max_delay=60.0, failing_after=2)


@pytest.mark.parametrize(("attempts", "delay"), [(1, 10.0), (2, 30.0), (3, 60.0), (4, 60.0)])
def test_backoff_grows_by_the_factor_up_to_the_cap(attempts: int, delay: float) -> None:
    assert POLICY.delay(attempts) == delay


def notice(recipient: str = "pager", alarm_id: str = "a1") -> Notice:
    return Notice(recipient=recipient, kind="alarm", alarm_ids=(alarm_id,), title="[HIGH] t", body="b",
                  severity="high")


def test_a_failing_delivery_is_retried_with_backoff_until_its_last_attempt() -> None:
    d = Deliveries(POLICY)
    t = 1000.0
    first = d.start(notice(), "json", t)
    # (time, error of the attempt that ends then, status after, next attempt)
    table = [
        (t + 1, "refused", "retrying", t + 11),
        (t + 12, "refused", "retrying", t + 42),
        (t + 43, "refused", "retrying", t + 103),
        (t + 104, "refused", "failed", None),
    ]
    for when, error, status, next_at in table:
        got = d.outcome(first.id, error, when)
        assert got is not None and (got.status, got.next_attempt) == (status, next_at)
        if next_at is not None:
            assert d.due(next_at - 0.5) == []
            (again,) = d.due(next_at)
            assert again.status == "sending"
    assert first.attempts == 4 and first.error == "refused"
    assert d.open == {}


def test_a_retry_that_goes_through_is_sent_and_the_recipient_is_well_again() -> None:
    d = Deliveries(POLICY)
    first = d.start(notice(), "json", 0.0)
    d.outcome(first.id, "refused", 1.0)
    assert d.failing() == {}
    second = d.start(notice(alarm_id="a2"), "json", 2.0)
    d.outcome(second.id, "connection refused", 3.0)
    assert d.failing() == {"pager": "connection refused"}  # two failed attempts in a row
    d.due(11.0)
    got = d.outcome(first.id, "", 12.0)
    assert got is not None and got.status == "sent" and got.attempts == 2
    assert d.failing() == {}


def test_each_recipient_is_counted_on_its_own() -> None:
    d = Deliveries(POLICY)
    for i in range(3):
        d.outcome(d.start(notice("pager", f"a{i}"), "json", 0.0).id, "down", 1.0)
        d.outcome(d.start(notice("email", f"a{i}"), "mailto", 0.0).id, "", 1.0)
    assert d.failing() == {"pager": "down"}


def test_a_test_delivery_has_one_attempt() -> None:
    d = Deliveries(POLICY)
    one = d.start(notice(), "json", 0.0, retries=False)
    got = d.outcome(one.id, "refused", 1.0)
    assert got is not None and got.status == "failed" and d.next_due() is None


def test_the_log_keeps_each_notification_updated_at_each_attempt(tmp_path: Path) -> None:
    log = NotificationLog(tmp_path / "notifications.db")
    d = Deliveries(POLICY)
    digest = Notice(recipient="ops", kind="digest", alarm_ids=("a1", "a2", "a3"), title="flood", body="3 alarms")
    one = d.start(notice(), "json", 100.0)
    two = d.start(digest, "mailto", 200.0)
    log.write(one)
    log.write(two)
    d.outcome(one.id, "refused", 101.0)
    log.write(one)
    d.outcome(two.id, "", 201.0)
    log.write(two)
    everything = log.records(0.0)
    assert [(r.recipient, r.status, r.attempts, r.error, r.next_attempt) for r in everything] == [
        ("pager", "retrying", 1, "refused", 111.0), ("ops", "sent", 1, "", None)]
    assert everything[1].alarm_ids == ("a1", "a2", "a3") and everything[1].channel == "mailto"
    assert [r.recipient for r in log.records(0.0, alarm_id="a2")] == ["ops"]
    assert [r.recipient for r in log.records(150.0)] == ["ops"]
    assert [r.recipient for r in log.records(0.0, limit=1)] == ["ops"]  # the latest
    log.close()

    reopened = NotificationLog(tmp_path / "notifications.db")  # after a restart: what to try again
    (left,) = reopened.unfinished()
    assert (left.id, left.status, left.attempts, left.next_attempt, left.max_attempts) == (one.id, "retrying", 1,
                                                                                          111.0, 4)
    assert reopened.prune(150.0) == 1
    assert [r.recipient for r in reopened.records(0.0)] == ["ops"]
    reopened.close()
