"""The webhooks component against a real HTTP receiver on loopback: bodies, signatures, filters, retries."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from actors import ChildSpec, Context
from actors.components.webhooks import Webhooks
from bms.alarms import AlarmAcknowledged, AlarmRaised
from bms.clock import ManualClock
from bms.export import Backoff, ListWebhookDeliveries, WebhookDelivery, WebhookEndpoint, WebhooksSection, verify
from bms.messages import DeviceDown, DeviceRecovered, FddFaultRaised, HealthChanged
from bms.supervision import Health
from tests.conftest import wait_until
from tests.export_servers import Hook, hook_server
from tests.notify_servers import closed_port

SECRET = "hunter2"


@pytest.fixture
def hook() -> Iterator[Hook]:
    with hook_server() as server:
        yield server


def start(ctx: Context, *endpoints: WebhookEndpoint, attempts: int = 4) -> None:
    section = WebhooksSection(endpoints=list(endpoints), retry=Backoff(initial=10.0, factor=2.0, max_delay=60.0),
                              max_attempts=attempts)
    assert ctx.supervisor.start_child(ChildSpec("webhooks", Webhooks, kwargs={"section": section, "site": "hq"}))


def deliveries(ctx: Context, endpoint: str | None = None) -> list[WebhookDelivery]:
    found: list[WebhookDelivery] = ctx.registry.get("webhooks").ask(ListWebhookDeliveries(endpoint=endpoint))
    return found


def raised(ts: float) -> AlarmRaised:
    return AlarmRaised(alarm_id="ahu1/sat:high", point_id="ahu1/sat", severity="high", text="SAT high: 31 °C",
                       ts=ts, value=31.0)


def test_an_alarm_is_posted_as_signed_json_that_the_receiver_verifies(ctx: Context, clock: ManualClock,
                                                                      hook: Hook) -> None:
    start(ctx, WebhookEndpoint(name="ops", url=hook.url, secret=SECRET))
    ctx.registry.publish(raised(clock.now()))
    ((path, headers, body, status),) = hook.requests(1)
    assert path == "/hook" and status == 200
    verify(SECRET, headers, body, now=clock.now())  # the receiver's check, as README says
    assert headers["X-Bms-Event"] == "alarm.raised" and headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["kind"] == "alarm.raised" and payload["site"] == "hq" and payload["severity"] == "high"
    assert payload["title"] == "[HIGH] SAT high: 31 °C"
    assert payload["data"]["alarm_id"] == "ahu1/sat:high" and payload["data"]["value"] == 31.0
    assert headers["X-Bms-Delivery"] == f"{payload['id']}-ops"
    wait_until(lambda: [(d.kind, d.status, d.attempts, d.http_status) for d in deliveries(ctx)]
               == [("alarm.raised", "sent", 1, 200)], what="the delivery logged as sent")


def test_endpoints_get_only_the_events_their_filters_name(ctx: Context, clock: ManualClock, hook: Hook) -> None:
    start(ctx, WebhookEndpoint(name="devices", url=hook.url + "/devices", events=["device"]),
          WebhookEndpoint(name="faults", url=hook.url + "/faults", events=["fdd.fault", "health"]))
    now = clock.now()
    ctx.registry.publish(raised(now))
    ctx.registry.publish(AlarmAcknowledged(alarm_id="a", point_id="p", user="olga", ts=now))
    ctx.registry.publish(DeviceDown(protocol="modbus", device_id="meter", ts=now, reason="timeout"))
    ctx.registry.publish(DeviceRecovered(protocol="modbus", device_id="meter", ts=now, down_for=12.0))
    ctx.registry.publish(FddFaultRaised(rule_id="g36-fc3", equip_id="ahu1", text="mixed air temp too low", ts=now))
    ctx.registry.publish(HealthChanged(component="modbus", state="degraded", ts=now, reason="meter down"))
    got = hook.requests(4)
    by_path = sorted((p, json.loads(b)["kind"]) for p, _h, b, _s in got)
    assert by_path == [("/hook/devices", "device.down"), ("/hook/devices", "device.up"),
                       ("/hook/faults", "fdd.fault"), ("/hook/faults", "health.changed")]
    assert "X-Bms-Signature" not in got[0][1]  # no secret, no signature
    wait_until(lambda: [d.status for d in deliveries(ctx)] == ["sent"] * 4, what="the four deliveries logged")


def test_a_failing_endpoint_is_retried_with_backoff_then_marked_failed_while_others_go_on(
        ctx: Context, clock: ManualClock, hook: Hook) -> None:
    hook.statuses = [500, 503]
    start(ctx, WebhookEndpoint(name="flaky", url=hook.url, secret=SECRET),
          WebhookEndpoint(name="dead", url=f"http://127.0.0.1:{closed_port()}/x"), attempts=2)
    ctx.registry.publish(raised(clock.now()))
    hook.requests(1)

    def flaky() -> WebhookDelivery:
        return deliveries(ctx, "flaky")[0]

    wait_until(lambda: flaky().attempts == 1 and deliveries(ctx, "dead")[0].attempts == 1, what="first attempts")
    assert (flaky().status, flaky().http_status, flaky().error) == ("pending", 500, "HTTP 500")
    assert flaky().next_attempt == pytest.approx(clock.now() + 10.0)
    health = ctx.health.get("webhooks")
    assert health is not None and health.state == Health.DEGRADED.value and "flaky" in health.reason
    for _ in range(2):  # the retries come on the clock, not at once
        assert clock.wait_for_waiters(1)
        clock.advance(10.0)
    got = hook.requests(2)
    first, second = got[0], got[1]
    assert first[2] == second[2] and first[1]["X-Bms-Delivery"] == second[1]["X-Bms-Delivery"]  # the same event
    verify(SECRET, second[1], second[2], now=clock.now())
    wait_until(lambda: flaky().status == "failed" and deliveries(ctx, "dead")[0].status == "failed",
               what="both to give up after the last attempt")
    assert flaky().attempts == 2 and flaky().error == "HTTP 503"
    assert "ConnectError" in deliveries(ctx, "dead")[0].error


def test_pending_deliveries_survive_a_restart(ctx: Context, clock: ManualClock, hook: Hook, tmp_path: object) -> None:
    from bms.export import PENDING, DeliveryLog

    log = DeliveryLog(ctx.data_dir / "webhooks.db")
    log.add(WebhookDelivery(id="e1-ops", endpoint="ops", kind="device.down", created=1.0, updated=1.0,
                            status=PENDING), b'{"id":"e1","kind":"device.down"}')
    log.close()
    start(ctx, WebhookEndpoint(name="ops", url=hook.url))
    ((_p, headers, body, _s),) = hook.requests(1)
    assert body == b'{"id":"e1","kind":"device.down"}' and headers["X-Bms-Delivery"] == "e1-ops"
    wait_until(lambda: deliveries(ctx)[0].status == "sent", what="the resumed delivery to be sent")


def test_the_notifiers_json_recipients_are_posted_signed_by_the_webhook_sender(hook: Hook) -> None:
    from actors.components.notify._courier import channel, send

    url = hook.url.replace("http://", "json://") + "?+X-Tenant=hq"
    service = channel(url, SECRET)
    assert send(service, "[HIGH] SAT high", "Point: Supply Air Temp", "high", "n1") == ""
    ((path, headers, body, _s),) = hook.requests(1)
    verify(SECRET, headers, body, now=float(headers["X-Bms-Timestamp"]))
    assert path == "/hook" and headers["X-Tenant"] == "hq" and headers["X-Bms-Delivery"] == "n1"
    assert json.loads(body) == {"version": "1.0", "title": "[HIGH] SAT high", "message": "Point: Supply Air Temp",
                                "attachments": [], "type": "failure"}
    down = channel(f"json://127.0.0.1:{closed_port()}/x")
    assert send(down, "t", "b", "", "n2").startswith("A Connection error occurred sending JSON notification to 127.0.0.1")
