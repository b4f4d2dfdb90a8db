"""bms.export's pure parts: tags from the model, line protocol, the outbox, target states, webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import msgspec
import pytest

from bms.alarms import AlarmRaised
from bms.errors import StoreError
from bms.export import (
    BackfillJob,
    BadSignature,
    LineEncoder,
    Outbox,
    TagMap,
    Throughput,
    WebhooksSection,
    line,
    series_key,
    signed_headers,
    state_of,
    verify,
    wants,
    webhook_event,
)
from bms.export._rows import ExportRow
from bms.messages import DeviceDown, PointValue
from bms.model import Node

MODEL = [
    Node(id="hq", type="Site", name="Head office", tags=("site",)),
    Node(id="ahu1", type="Equip", name="AHU 1", parent="hq", tags=("ahu", "equip")),
    Node(id="ahu1/sat", type="Point", name="Supply Air Temp", parent="ahu1", tags=("air", "point", "sensor", "temp"),
         tag_values={"unit": "°C"}),
]


def test_a_points_tags_come_from_the_model_site_equip_name_unit_and_markers() -> None:
    tags = TagMap(MODEL)("ahu1/sat")
    assert tags.labels() == {"point": "ahu1/sat", "site": "hq", "equip": "ahu1", "name": "Supply Air Temp",
                             "unit": "°C", "markers": "air,sensor,temp"}
    assert TagMap(MODEL, site="test")("gone/point").labels() == {"point": "gone/point", "site": "test"}


def test_line_protocol_escapes_tags_and_writes_numbers_states_and_booleans_in_nanoseconds() -> None:
    key = series_key("bms", TagMap(MODEL)("ahu1/sat"))
    assert key == "bms,equip=ahu1,markers=air\\,sensor\\,temp,name=Supply\\ Air\\ Temp,point=ahu1/sat,site=hq,unit=°C"
    assert line("m,p=a", 12.5, 1_700_000_000.25) == "m,p=a value=12.5 1700000000250000000"
    assert line("m,p=a", 3, 1.0) == "m,p=a value=3.0 1000000000"
    assert line("m,p=a", True, 1.0) == "m,p=a value=1.0 1000000000"
    assert line("m,p=a", 'say "hi"', 1.0) == 'm,p=a state="say \\"hi\\"" 1000000000'
    assert line("m,p=a", None, 1.0) is None
    assert line("m,p=a", float("nan"), 1.0) is None
    rows = [ExportRow("ahu1/sat", 1.0, 12.0), ExportRow("ahu1/sat", 2.0, None)]
    encoder = LineEncoder("bms", TagMap(MODEL))
    assert encoder.lines(rows) == [f"{key} value=12.0 1000000000"]
    # a batch of known series: finite floats in one pass; anything else (NaN, inf, a state, a bool, an int,
    # no value) sends the whole batch the general way, with the same lines
    mixed = [ExportRow("ahu1/sat", 3.0, v) for v in (1.5, float("nan"), float("inf"), "on", True, 7, None, 2.5)]
    assert encoder.lines(mixed) == [line(key, r.value, r.ts) for r in mixed if line(key, r.value, r.ts) is not None]
    assert encoder.lines(mixed[:1] + mixed[-1:]) == [f"{key} value=1.5 3000000000", f"{key} value=2.5 3000000000"]


def test_the_outbox_keeps_rows_in_order_across_a_reopen_until_they_are_acked(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "exports" / "vm.db")
    box.append([PointValue(point_id="a", value=1.0, ts=10.0), PointValue(point_id="b", value="on", ts=11.0)])
    box.append([PointValue(point_id="a", value=2, ts=12.0)])
    assert box.size == 3 and box.oldest_ts == 10.0
    first = box.peek(2)  # whole batches: the first one
    assert first.rows == [("a", 10.0, 1.0), ("b", 11.0, "on")]
    assert box.peek(1).rows == first.rows and len(box.peek(3).rows) == 3
    box.close()

    again = Outbox(tmp_path / "exports" / "vm.db")  # a restart (or a kill -9) keeps what was buffered
    assert again.size == 3
    assert again.ack(first.upto) == 2
    assert again.size == 1 and again.oldest_ts == 12.0
    assert again.peek(10).rows == [("a", 12.0, 2)]
    again.save_job(BackfillJob(id="j", since=0.0, until=100.0, point=3, ts=50.0, sent=7, total=10))
    assert again.job("j") == BackfillJob(id="j", since=0.0, until=100.0, point=3, ts=50.0, sent=7, total=10)
    again.close()


def test_an_outbox_from_a_newer_bms_is_refused_by_name(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "x.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer than this bms"):
        Outbox(path)


@pytest.mark.parametrize(("error", "backfilling", "buffered", "sent", "state"), [
    ("refused", False, 0, 0, "error"), ("", True, 0, 5, "backfilling"), ("", False, 50_000, 5, "catching up"),
    ("", False, 10, 5, "live"), ("", False, 0, 0, "idle")])
def test_a_targets_state(error: str, backfilling: bool, buffered: int, sent: int, state: str) -> None:
    assert state_of(error=error, backfilling=backfilling, buffered=buffered, batch=5000, sent=sent) == state


def test_throughput_is_rows_per_second_over_the_window() -> None:
    t = Throughput(window=10.0)
    t.add(100.0, 500)
    t.add(105.0, 500)
    assert t.rate(110.0) == pytest.approx(100.0)
    assert t.rate(200.0) == 0.0 and t.total == 1000


def test_a_signature_is_hmac_sha256_over_timestamp_dot_body_and_a_receiver_verifies_it() -> None:
    body = b'{"kind":"alarm.raised"}'
    headers = signed_headers("s3cret", "alarm.raised", "d1", body, 1_700_000_000.7)
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Bms-Signature"] == f"sha256={expected}"
    assert headers["X-Bms-Timestamp"] == "1700000000" and headers["X-Bms-Delivery"] == "d1"
    verify("s3cret", headers, body, now=1_700_000_100.0)
    with pytest.raises(BadSignature, match="does not match"):
        verify("s3cret", headers, body + b" ", now=1_700_000_100.0)
    with pytest.raises(BadSignature, match="does not match"):
        verify("other", headers, body, now=1_700_000_100.0)
    with pytest.raises(BadSignature, match="from now"):  # a replay, later
        verify("s3cret", headers, body, now=1_700_001_000.0)
    assert "X-Bms-Signature" not in signed_headers("", "alarm.raised", "d1", body, 0.0)


def test_webhook_events_carry_the_kind_a_title_and_the_message_itself() -> None:
    raised = AlarmRaised(alarm_id="a1", point_id="ahu1/sat", severity="high", text="SAT high", ts=5.0, value=30.0)
    event = webhook_event(raised, "e1", site="hq")
    assert (event.kind, event.title, event.severity, event.site) == ("alarm.raised", "[HIGH] SAT high", "high", "hq")
    assert event.data["alarm_id"] == "a1" and event.data["value"] == 30.0
    down = webhook_event(DeviceDown(protocol="modbus", device_id="meter", ts=1.0, reason="timeout"), "e2")
    assert down.kind == "device.down" and "timeout" in down.title


@pytest.mark.parametrize(("filters", "kind", "wanted"), [
    (["alarm"], "alarm.raised", True), (["alarm.cleared"], "alarm.raised", False), (["*"], "health.changed", True),
    (["fdd"], "fdd.fault", True), (["device.down"], "device.up", False)])
def test_endpoint_filters_name_a_kind_or_its_family(filters: list[str], kind: str, wanted: bool) -> None:
    assert wants(filters, kind) is wanted


def test_an_unknown_event_kind_in_the_settings_is_named_with_a_did_you_mean() -> None:
    section = msgspec.convert({"endpoints": [{"name": "a", "url": "http://x/", "events": ["alarms", "fdd.fault"]},
                                             {"name": "a", "url": "http://y/"}]}, WebhooksSection)
    assert section.config_problems() == [("endpoints[0].events[0]", "no event kind 'alarms' (did you mean 'alarm'?)"),
                                         ("endpoints[1].name", "a second endpoint named 'a'")]
