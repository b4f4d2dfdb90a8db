"""bms.export's MQTT mapping as pure functions: topics, payloads, the value gate, command admission,
settings checks and Home Assistant discovery (no broker, no threads)."""

from __future__ import annotations

import msgspec
import pytest

from bms.config import load_settings
from bms.errors import ConfigError, PermissionDenied
from bms.export import (
    BadCommand,
    CommandRequest,
    CommandResponse,
    MqttSection,
    SiteStatus,
    Topics,
    TopicTemplates,
    ValueGate,
    admit,
    broker_of,
    component_of,
    correlation_of,
    decode_status,
    discovery_configs,
    encode,
    split_point,
    status_filter,
)
from bms.export._discovery import Equipment
from bms.messages import PointState, PointValue, WriteAccepted

T = Topics(TopicTemplates(), "bms", "acme", "hq", "edge1")


@pytest.mark.parametrize(("point_id", "topic"), [
    ("ahu1/sat", "bms/acme/hq/edge1/ahu1/sat"),
    ("meter/kw", "bms/acme/hq/edge1/meter/kw"),
    ("outdoor", "bms/acme/hq/edge1/_/outdoor"),  # a point id without a controller
    ("vav1/zone/temp", "bms/acme/hq/edge1/vav1/zone~temp"),  # deeper ids stay one level
    ("a+b/c#d", "bms/acme/hq/edge1/a_b/c_d"),  # wildcards never reach a topic
])
def test_value_topics(point_id: str, topic: str) -> None:
    assert T.value(point_id) == topic


@pytest.mark.parametrize(("name", "topic"), [
    ("status", "bms/acme/hq/edge1/status/update"),
    ("heartbeat", "bms/acme/hq/edge1/status/heartbeat"),
    ("bulk", "bms/acme/hq/edge1/bulk"),
    ("requests", "bms/acme/hq/edge1/command/+/request"),
])
def test_site_topics(name: str, topic: str) -> None:
    assert getattr(T, name) == topic


def test_alarm_device_and_command_topics() -> None:
    assert T.alarm("room1/temp-high") == "bms/acme/hq/edge1/status/alarm/room1~temp-high"
    assert T.device_status("ahu1") == "bms/acme/hq/edge1/status/device/ahu1"
    assert T.request("write") == "bms/acme/hq/edge1/command/write/request"
    assert T.response("write") == "bms/acme/hq/edge1/command/write/response"
    assert status_filter("bms") == "bms/+/+/+/status/update"


@pytest.mark.parametrize(("topic", "command"), [
    ("bms/acme/hq/edge1/command/write/request", "write"),
    ("bms/acme/hq/edge1/command/ack/request", "ack"),
    ("bms/acme/hq/edge1/command/write/response", None),
    ("bms/acme/hq/edge2/command/write/request", None),  # another instance's
    ("bms/acme/hq/edge1/command/a/b/request", None),
])
def test_the_command_a_request_topic_names(topic: str, command: str | None) -> None:
    assert T.command_of(topic) == command


def test_templates_are_configurable() -> None:
    t = Topics(TopicTemplates(value="{org}/{site}/{point}@{controller}", request="in/{device}/{command}"),
               "p", "o", "s", "d")
    assert t.value("ahu1/sat") == "o/s/sat@ahu1"
    assert t.command_of("in/d/read") == "read"


def test_split_point() -> None:
    assert split_point("ahu1/sat") == ("ahu1", "sat")
    assert split_point("x") == ("_", "x")


@pytest.mark.parametrize(("section", "problem"), [
    (MqttSection(url="http://broker"), ("url", "scheme must be mqtt:// or mqtts://, got 'http://broker'")),
    (MqttSection(url="mqtt://"), ("url", "no host in 'mqtt://'")),
    (MqttSection(topics=TopicTemplates(value="{prefix}/{pont}")),
     ("topics.value", "unknown placeholder {pont} (known: {controller}, {device}, {org}, {point}, {prefix}, {site})")),
    (MqttSection(topics=TopicTemplates(status="{prefix}/#")),
     ("topics.status", "a topic to publish may not contain '#' or '+'")),
    (MqttSection(reconnect_min=10, reconnect_max=5), ("reconnect_max", "must be at least reconnect_min (10)")),
])
def test_settings_problems(section: MqttSection, problem: tuple[str, str]) -> None:
    assert problem in section.config_problems()


def test_a_bad_mqtt_section_is_one_line_naming_the_key(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / "bms.toml"
    path.write_text('[mqtt]\nurl = "mqtt://127.0.0.1:1883"\nqos = { value = 3 }\nkeepalive = 1\n')
    settings, _ = load_settings(path, isolate=True)
    lines = settings.broken["mqtt"]
    assert any("mqtt.qos.value" in line and "2" in line for line in lines) or \
        any("mqtt.keepalive" in line for line in lines), lines


@pytest.mark.parametrize(("url", "host", "port", "tls"), [
    ("mqtt://127.0.0.1:1883", "127.0.0.1", 1883, False),
    ("mqtt://broker", "broker", 1883, False),
    ("mqtts://broker", "broker", 8883, True),
    ("mqtts://broker:9999", "broker", 9999, True),
])
def test_broker_of(url: str, host: str, port: int, tls: bool) -> None:
    b = broker_of(url)
    assert (b.host, b.port, b.tls) == (host, port, tls)


def test_broker_of_a_bad_url_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^mqtt url: scheme must be mqtt:// or mqtts://, got 'ftp://x'$"):
        broker_of("ftp://x")


def test_payloads_are_the_same_structs_as_the_api() -> None:
    pv = PointValue(point_id="ahu1/sat", value=12.5, ts=10.0)
    assert msgspec.json.decode(encode(pv), type=PointValue) == pv
    status = SiteStatus(org="acme", site="hq", device="edge1", state="online", ts=5.0, active_alarms=2)
    assert decode_status(encode(status)) == status
    accepted = WriteAccepted(point_id="room1/sp", effective=23.0, active_priority=8, priority=8)
    response = CommandResponse(correlation_id="c1", command="write", ok=True, ts=1.0, accepted=accepted)
    assert msgspec.json.decode(encode(response), type=CommandResponse) == response
    assert b"points" not in encode(response)  # defaults are left out


# --------------------------------------------------------------------- the gate
def pv(point: str, value: object, ts: float = 0.0) -> PointValue:
    return PointValue(point_id=point, value=value, ts=ts)  # type: ignore[arg-type]


@pytest.mark.parametrize(("deadband", "values", "sent"), [
    (0.5, [20.0, 20.2, 20.4, 20.6, 20.0], [20.0, 20.6, 20.0]),
    (0.5, [True, True, False], [True, True, False]),  # not numbers: every value is news
    (1.0, [1, 1.5, 2], [1, 2]),
    (0.0, [1.0, 1.0], [1.0, 1.0]),
])
def test_deadband(deadband: float, values: list[object], sent: list[object]) -> None:
    gate = ValueGate(deadband=deadband)
    assert [v for v in values if gate.admit(pv("a/b", v), 0.0)] == sent


def test_rate_limit_holds_the_newest_and_lets_it_out_when_due() -> None:
    gate = ValueGate(min_interval=10.0)
    assert gate.admit(pv("a/b", 1.0), 0.0)
    assert not gate.admit(pv("a/b", 2.0), 1.0)
    assert not gate.admit(pv("a/b", 3.0), 2.0)
    assert gate.admit(pv("c/d", 9.0), 2.0)  # per point
    assert gate.due(5.0) == []
    assert [p.value for p in gate.due(10.0)] == [3.0]
    assert gate.due(30.0) == []
    assert gate.dropped == 1  # 2.0 was replaced while held
    assert not gate.admit(pv("a/b", 4.0), 15.0)  # 3.0 went out at 10
    assert gate.admit(pv("a/b", 5.0), 20.0)


# ----------------------------------------------------------------- commands
ALL = ("write", "read", "release", "ack", "status", "deploy", "rollback")


def test_admit_maps_the_mqtt_user_to_a_bms_user() -> None:
    body = b'{"correlation_id": "c1", "user": "ops", "point": "ahu1/sat", "value": 13, "priority": 9}'
    cmd = admit("write", body, ALL, ["*"], {"ops": "alice"}, "")
    assert cmd.user == "alice" and cmd.request.priority == 9 and cmd.request.value == 13
    assert admit("status", b"{}", ALL, ["*"], {}, "svc").user == "svc"  # default user


@pytest.mark.parametrize(("name", "body", "allowed", "globs", "error", "kind"), [
    ("write", b"{nope", ALL, ["*"], "bad request: not JSON", BadCommand),
    ("write", b'{"point": "a/b", "priority": 17, "user": "ops"}', ALL, ["*"], "bad request: priority must be 1..16",
     BadCommand),
    ("write", b'{"value": 1, "user": "ops"}', ALL, ["*"], "bad request: write needs a point", BadCommand),
    ("write", b'{"pont": "a/b"}', ALL, ["*"], "bad request: Object contains unknown field `pont`", BadCommand),
    ("read", b'{"user": "ops"}', ALL, ["*"], "bad request: read needs a point or points", BadCommand),
    ("ack", b'{"user": "ops"}', ALL, ["*"], "bad request: ack needs alarm_ids", BadCommand),
    ("reboot", b"{}", ALL, ["*"], "unknown command 'reboot'", BadCommand),
    ("deploy", b'{"bundle": "AAAA", "user": "ops"}', ("read",), ["*"], "command 'deploy' is not allowed",
     PermissionDenied),
    ("write", b'{"point": "ahu1/sat", "user": "ops"}', ALL, ["vav*/*"], "point 'ahu1/sat' is not in the allow-list",
     PermissionDenied),
    ("read", b'{"point": "a/b", "user": "eve"}', ALL, ["*"], "MQTT user 'eve' maps to no bms user", PermissionDenied),
    ("read", b'{"point": "a/b"}', ALL, ["*"], "the request names no user", PermissionDenied),
])
def test_admit_refuses_with_one_line(name: str, body: bytes, allowed: tuple[str, ...], globs: list[str], error: str,
                                     kind: type[Exception]) -> None:
    with pytest.raises(kind) as caught:
        admit(name, body, allowed, globs, {"ops": "alice"}, "")
    assert str(caught.value).startswith(error) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("payload", "cid"), [
    (b'{"correlation_id": "x1", "value": "bad"}', "x1"), (b"{broken", ""), (b"[1]", ""),
    (b'{"correlation_id": 5}', ""),
])
def test_the_correlation_id_of_any_payload(payload: bytes, cid: str) -> None:
    assert correlation_of(payload) == cid


def test_a_request_decodes_a_base64_bundle() -> None:
    req = msgspec.json.decode(b'{"bundle": "AAEC"}', type=CommandRequest)
    assert req.bundle == b"\x00\x01\x02"


# ---------------------------------------------------------------- discovery
def state(point_id: str, kind: str, writable: bool, unit: str = "") -> PointState:
    return PointState(point_id=point_id, name=point_id.upper(), value=None, ts=None, kind=kind, writable=writable,
                      unit=unit)


@pytest.mark.parametrize(("kind", "writable", "component"), [
    ("number", False, "sensor"), ("number", True, "number"), ("bool", False, "binary_sensor"),
    ("bool", True, "switch"), ("enum", True, "sensor"), ("text", False, "sensor"),
])
def test_the_home_assistant_component_of_a_point(kind: str, writable: bool, component: str) -> None:
    assert component_of(state("a/b", kind, writable)) == component


def test_discovery_configs() -> None:
    points = [state("ahu1/sat", "number", False, "°C"), state("ahu1/fan", "bool", True),
              state("outdoor", "number", False)]
    equipment = {"ahu1/sat": Equipment(id="ahu1", name="AHU 1"), "ahu1/fan": Equipment(id="ahu1", name="AHU 1")}
    configs = {c.topic.split("/")[3]: c for c in discovery_configs(points, equipment, T, priority=12, user="ha",
                                                                  site_name="HQ")}
    sat, fan = configs["ahu1_sat"], configs["ahu1_fan"]
    assert (sat.component, fan.component) == ("sensor", "switch")
    assert sat.topic == "homeassistant/sensor/bms_acme_hq_edge1/ahu1_sat/config"
    assert sat.payload["state_topic"] == "bms/acme/hq/edge1/ahu1/sat"
    assert sat.payload["unit_of_measurement"] == "°C"
    assert sat.payload["device"] == fan.payload["device"]  # grouped by equipment
    assert msgspec.json.decode(str(fan.payload["payload_on"])) == {"point": "ahu1/fan", "priority": 12, "user": "ha",
                                                                   "value": True}
    assert fan.payload["command_topic"] == "bms/acme/hq/edge1/command/write/request"
    outdoor = next(c for c in discovery_configs(points, equipment, T) if "outdoor" in c.topic)
    device = outdoor.payload["device"]
    assert isinstance(device, dict) and device["name"] == "hq"  # no equipment: the site is its device
