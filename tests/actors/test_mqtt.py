"""The mqtt component against the machine's real Mosquitto, started by a Platform on the virtual-room site.

Values, alarms and status arrive on their topics; command requests are
answered on their response topics with the correlation id, refused by the
allow-list, by the user's permissions or for bad JSON, and audited; the
component recovers when the broker drops it; a broker that is not there
makes it Degraded with the reason and slows nothing. Each test publishes
under a prefix of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from actors.platform import Platform
from bms.audit import AuditRow, ListAudit
from bms.auth.messages import AddUser
from bms.clock import ManualClock
from bms.config import Settings, load_scenario
from bms.export import MqttSection, TopicTemplates
from bms.messages import PointValue, ValueChanged
from tests.conftest import ROOT, wait_until
from tests.mqtt_broker import URL, Watcher, clear_retained, unique, watching

SITE = ROOT / "tests/data/site.toml"


class Site:
    def __init__(self, platform: Platform, section: MqttSection) -> None:
        self.platform = platform
        self.section = section
        self.base = f"{section.prefix}/{section.org}/{section.site}/{section.instance}"

    def ask(self, service: str, message: Any) -> Any:
        return self.platform.ctx.registry.get(service).ask(message, timeout=5)

    def health(self) -> tuple[str, str]:
        h = self.platform.ctx.health.get("mqtt")
        return (h.state, h.reason) if h is not None else ("", "")

    def request(self, watcher: Watcher, command: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        cid = unique("c")
        payload = body if isinstance(body, bytes) else msgspec.json.encode({"correlation_id": cid, **body})
        if isinstance(body, bytes):
            cid = ""
        watcher.publish(f"{self.base}/command/{command}/request", payload)
        got = watcher.on(f"{self.base}/command/{command}/response",
                         where=lambda r: isinstance(r, dict) and r.get("correlation_id") == cid)
        answer = got.json()
        assert isinstance(answer, dict)
        return answer

    def audit(self, action: str) -> list[AuditRow]:
        return list(self.ask("audit", ListAudit(action=action)))


@pytest.fixture
def prefix() -> Iterator[str]:
    p = unique("bmstest")
    yield p
    clear_retained(p)


def start(tmp_path: Path, prefix: str, url: str = URL, with_logic: bool = False, **kw: Any) -> Site:
    from bms.components import installed

    tmp_path.mkdir(parents=True, exist_ok=True)
    wanted = {"nodes", "history", "points", "auth", "audit", "alarms", "mqtt", *(("logic",) if with_logic else ())}
    components = [c for c in installed().components if c.name in wanted]
    section = MqttSection(url=url, prefix=prefix, org="acme", site="hq", instance="edge1",
                          users={"ops": "admin", "watcher": "watcher"}, reconnect_min=1.0, reconnect_max=2.0, **kw)
    platform = Platform(Settings(sections={"mqtt": section}), load_scenario(SITE), tmp_path, clock=ManualClock(),
                        components=components)
    platform.start()
    return Site(platform, section)


@pytest.fixture
def site(tmp_path: Path, prefix: str) -> Iterator[Site]:
    s = start(tmp_path, prefix, commands=["read", "status", "write", "release", "ack"])
    try:
        wait_until(lambda: s.health()[0] == "Healthy", timeout=10, what="mqtt connected")
        yield s
    finally:
        assert s.platform.stop() == []


def test_values_arrive_on_their_topics_and_the_status_is_retained(site: Site) -> None:
    with watching(f"{site.base}/#") as w:
        status = w.on(f"{site.base}/status/update")  # retained: a late subscriber sees it at once
        assert status.retain
        body = status.json()
        assert isinstance(body, dict)
        assert body["state"] == "online" and body["org"] == "acme" and body["site"] == "hq"
        assert body["device"] == "edge1" and body["name"] == "Test site"
        site.platform.ctx.registry.publish(ValueChanged(values=(
            PointValue(point_id="room1/temp", value=22.5, ts=1000.0),
            PointValue(point_id="room1/sp", value=21.0, ts=1000.0, flags=("overridden",)))))
        temp = w.on(f"{site.base}/room1/temp")
        assert msgspec.json.decode(temp.payload, type=PointValue) == PointValue(point_id="room1/temp", value=22.5,
                                                                              ts=1000.0)
        sp = w.on(f"{site.base}/room1/sp").json()
        assert isinstance(sp, dict) and sp["flags"] == ["overridden"]


def test_a_write_request_goes_through_the_priority_array_as_the_mapped_user_and_is_audited(site: Site) -> None:
    with watching(f"{site.base}/command/+/response") as w:
        answer = site.request(w, "write", {"user": "ops", "point": "room1/sp", "value": 23.0, "priority": 8})
        assert answer["ok"] is True, answer
        assert answer["user"] == "admin" and answer["command"] == "write"
        assert answer["accepted"]["effective"] == 23.0 and answer["accepted"]["active_priority"] == 8
        read = site.request(w, "read", {"user": "ops", "points": ["room1/*"]})
        assert {p["point_id"]: p["value"] for p in read["points"]}["room1/sp"] == 23.0
        released = site.request(w, "release", {"user": "ops", "point": "room1/sp", "priority": 8})
        assert released["ok"] is True and released["accepted"]["effective"] == 21.0
        status = site.request(w, "status", {"user": "ops"})
        assert status["status"]["state"] == "online"
    wait_until(lambda: len(site.audit("mqtt.write")) == 1, what="the write's audit row")
    (row,) = site.audit("mqtt.write")
    assert row.entry.user == "admin" and row.entry.origin == "mqtt" and row.entry.target == "room1/sp"
    assert row.entry.outcome == "done" and '"effective":23.0' in row.entry.after
    wait_until(lambda: len(site.audit("mqtt.release")) == 1, what="the release's audit row")


def test_refusals_are_one_line_on_the_response_topic_and_audited(site: Site) -> None:
    site.ask("auth", AddUser(name="watcher", role="viewer"))
    with watching(f"{site.base}/command/+/response") as w:
        denied = site.request(w, "write", {"user": "watcher", "point": "room1/sp", "value": 23.0})
        assert denied["ok"] is False
        assert denied["error"] == "user 'watcher' (role viewer) may not write: it needs the permission 'write-points'"
        not_listed = site.request(w, "deploy", {"user": "ops", "bundle": "AAAA"})
        assert not_listed["error"].startswith("command 'deploy' is not allowed on this site")
        unknown_user = site.request(w, "read", {"user": "mallory", "point": "room1/sp"})
        assert unknown_user["error"] == "MQTT user 'mallory' maps to no bms user ([mqtt] users)"
        bad = site.request(w, "write", b"{not json")
        assert bad["ok"] is False and bad["error"].startswith("bad request: not JSON")
        assert "\n" not in bad["error"]
        wrong = site.request(w, "write", {"user": "ops", "point": "room1/sp", "value": 23.0, "priority": "high"})
        assert wrong["error"].startswith("bad request: Expected `int`, got `str` - at `$.priority`")
        guard = site.request(w, "write", {"user": "ops", "point": "room1/sp", "value": 99.0})
        assert guard["ok"] is False and "28" in guard["error"]  # the point's guard (max 28) refuses it
    wait_until(lambda: len(site.audit("mqtt.write")) == 4, what="four refused writes audited")
    outcomes = {(r.entry.user, r.entry.outcome) for r in site.audit("mqtt.write")}
    assert ("watcher", "refused") in outcomes and ("admin", "refused") in outcomes
    assert len(site.audit("mqtt.deploy")) == 1


def test_the_component_reconnects_after_the_broker_drops_it(site: Site) -> None:
    with watching(f"{site.base}/room1/temp") as w:
        # a second client with the same id: the broker drops ours (a session takeover)
        intruder = Watcher(client_id="bms-acme-hq-edge1")
        try:
            wait_until(lambda: site.health()[0] == "Degraded", timeout=10, what="mqtt degraded")
            assert site.health()[1].startswith("broker unreachable at 127.0.0.1:1883")
        finally:
            intruder.close()
        wait_until(lambda: site.health()[0] == "Healthy", timeout=15, what="mqtt reconnected")
        site.platform.ctx.registry.publish(ValueChanged(values=(PointValue(point_id="room1/temp", value=30.0,
                                                                           ts=2000.0),)))
        w.on(f"{site.base}/room1/temp", where=lambda v: isinstance(v, dict) and v["value"] == 30.0)


def test_a_broker_that_is_not_there_is_named_in_health_and_slows_nothing(tmp_path: Path, prefix: str) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    site = start(tmp_path, prefix, url=f"mqtt://127.0.0.1:{port}")
    try:
        wait_until(lambda: site.health()[1].startswith(f"broker unreachable at 127.0.0.1:{port}"), timeout=10,
                   what="the reason in health")
        assert site.health()[0] == "Degraded"
        t0 = time.perf_counter()
        for i in range(2000):
            site.platform.ctx.registry.publish(ValueChanged(values=(PointValue(point_id="room1/temp", value=float(i),
                                                                               ts=float(i)),)))
        assert time.perf_counter() - t0 < 5  # coarse: the publisher never waits on the broker
    finally:
        assert site.platform.stop() == []


def test_home_assistant_discovery_configs_group_points_by_equipment(tmp_path: Path, prefix: str) -> None:
    ha = unique("ha")
    site = start(tmp_path, prefix, discovery=True, discovery_prefix=ha, discovery_priority=10,
                 topics=TopicTemplates())
    try:
        with watching(f"{ha}/#") as w:
            number = w.wait_for(lambda s: s.topic.startswith(f"{ha}/number/"), what="the setpoint's config")
            sensor = w.wait_for(lambda s: s.topic.startswith(f"{ha}/sensor/"), what="the temperature's config")
            # the model changed: the configs follow on the next tick
            from bms.messages import EntityUpdated, GetNode

            node = site.ask("nodes", GetNode(node_id="room1/sp"))
            count = sum(1 for s in w.seen if s.topic == number.topic)
            site.platform.ctx.registry.publish(EntityUpdated(node=node, ts=1.0))
            tick(site, 1.0)
            w.wait_for(lambda _s: sum(1 for s in w.seen if s.topic == number.topic) > count, what="configs again")
        with watching(number.topic) as late:  # retained: a subscriber that comes later gets it at once
            assert late.on(number.topic).retain
        n, t = number.json(), sensor.json()
        assert isinstance(n, dict) and isinstance(t, dict)
        assert n["command_topic"] == f"{site.base}/command/write/request"
        rendered = n["command_template"].replace("{{ value }}", "22.5")
        assert msgspec.json.decode(rendered) == {"point": "room1/sp", "priority": 10, "user": "homeassistant",
                                                 "value": 22.5}
        assert n["state_topic"] == f"{site.base}/room1/sp" and n["unit_of_measurement"] == "°C"
        assert t["state_topic"] == f"{site.base}/room1/temp" and "command_topic" not in t
        assert n["device"]["identifiers"] == t["device"]["identifiers"]  # one HA device: the room's equipment
        assert n["availability_topic"] == f"{site.base}/status/update"
    finally:
        assert site.platform.stop() == []
        clear_retained(ha)


def tick(site: Site, seconds: float) -> None:
    """Move the manual clock on, the ticker waiting on it first (so its ticks fire from the new time)."""
    clock = site.platform.ctx.clock
    assert isinstance(clock, ManualClock)
    assert clock.wait_for_waiters(1)
    clock.advance(seconds)


def test_alarms_and_device_status_on_their_topics_and_in_the_site_status(site: Site) -> None:
    from bms.alarms import AlarmRaised
    from bms.messages import DeviceDown, DeviceRecovered

    with watching(f"{site.base}/status/#") as w:
        site.platform.ctx.registry.publish(AlarmRaised(alarm_id="room1/temp-high", point_id="room1/temp",
                                                       severity="high", text="too warm", ts=5.0, value=29.0))
        alarm = w.on(f"{site.base}/status/alarm/room1~temp-high").json()
        assert isinstance(alarm, dict) and alarm["type"] == "AlarmRaised" and alarm["severity"] == "high"
        site.platform.ctx.registry.publish(DeviceDown(protocol="bacnet", device_id="ahu1", ts=6.0, reason="timeout"))
        down = w.on(f"{site.base}/status/device/ahu1").json()
        assert isinstance(down, dict) and down["type"] == "DeviceDown" and down["reason"] == "timeout"
        tick(site, 1.0)  # the status is refreshed on the next tick after a change
        w.on(f"{site.base}/status/update", where=lambda s: isinstance(s, dict) and s.get("devices_down") == ["ahu1"])
        site.platform.ctx.registry.publish(DeviceRecovered(protocol="bacnet", device_id="ahu1", ts=7.0))
        w.on(f"{site.base}/status/device/ahu1", where=lambda s: isinstance(s, dict) and s["type"] == "DeviceRecovered")
        tick(site, 1.0)
        w.on(f"{site.base}/status/heartbeat")


def test_bulk_values_and_the_rate_limit_on_the_clock(tmp_path: Path, prefix: str) -> None:
    site = start(tmp_path, prefix, values="both", min_interval=10.0)
    try:
        wait_until(lambda: site.health()[0] == "Healthy", timeout=10, what="mqtt connected")
        with watching(f"{site.base}/room1/temp", f"{site.base}/bulk") as w:
            def temp(value: float) -> None:
                site.platform.ctx.registry.publish(ValueChanged(values=(PointValue(point_id="room1/temp", value=value,
                                                                                   ts=value),)))

            temp(20.0)
            w.on(f"{site.base}/bulk", where=lambda b: isinstance(b, list) and b[0]["value"] == 20.0)
            temp(20.5)  # within 10 s of 20.0: held (and replaced by the next: latest per point)
            temp(21.0)
            # a value of another point behind them: once its batch is out, the three have been handled
            site.platform.ctx.registry.publish(ValueChanged(values=(PointValue(point_id="room1/sp", value=22.0,
                                                                               ts=3.0),)))
            w.on(f"{site.base}/bulk", where=lambda b: isinstance(b, list) and b[-1]["point_id"] == "room1/sp")
            bulk = [v["value"] for s in w.seen if s.topic.endswith("/bulk") for v in s.json()]  # type: ignore[attr-defined]
            assert bulk == [20.0, 22.0]  # the batches carry what the gate let through
            values = [s.json() for s in w.seen if s.topic.endswith("/room1/temp")]
            assert [v["value"] for v in values if isinstance(v, dict)] == [20.0]
            tick(site, 10.0)
            w.on(f"{site.base}/room1/temp", where=lambda v: isinstance(v, dict) and v["value"] == 21.0)
            assert [s.json()["value"] for s in w.seen if s.topic.endswith("/room1/temp")] == [20.0, 21.0]  # type: ignore[index]
    finally:
        assert site.platform.stop() == []


def test_a_request_may_carry_a_bms_token_instead_of_a_user(site: Site) -> None:
    from bms.auth.messages import CreateToken, NewToken

    site.ask("auth", AddUser(name="op", role="operator"))
    made: NewToken = site.ask("auth", CreateToken(user="op", name="scada"))
    with watching(f"{site.base}/command/+/response") as w:
        ok = site.request(w, "write", {"token": made.token, "point": "room1/sp", "value": 24.0, "priority": 9})
        assert ok["ok"] is True and ok["user"] == "op"
        high = site.request(w, "write", {"token": made.token, "point": "room1/sp", "value": 24.0, "priority": 2})
        assert high["error"] == "user 'op' (role operator) may not command above priority 8, asked 2"
        bad = site.request(w, "read", {"token": "nope", "point": "room1/sp"})
        assert bad["ok"] is False and bad["error"] == "unknown token"
    wait_until(lambda: len(site.audit("mqtt.read")) == 1, what="the refused read audited")
    (row,) = site.audit("mqtt.read")
    assert row.entry.user == "mqtt:(token)" and "nope" not in row.entry.after  # no secret in the audit log


def test_a_broker_that_stops_degrades_the_component_and_it_recovers_when_the_broker_returns(
        tmp_path: Path, prefix: str) -> None:
    from tests.mqtt_private import private_broker

    with private_broker(tmp_path) as broker:
        site = start(tmp_path / "site", prefix, url=broker.url)
        try:
            wait_until(lambda: site.health()[0] == "Healthy", timeout=10, what="connected")
            broker.stop()
            wait_until(lambda: site.health()[0] == "Degraded", timeout=10, what="degraded")
            assert site.health()[1].startswith(f"broker unreachable at 127.0.0.1:{broker.port}")
            for i in range(100):  # published while the broker is away: counted, never waited on
                site.platform.ctx.registry.publish(ValueChanged(values=(PointValue(point_id="room1/temp",
                                                                                   value=float(i), ts=float(i)),)))
            broker.start()
            wait_until(lambda: site.health()[0] == "Healthy", timeout=20, what="reconnected")
            import paho.mqtt.client as paho
            from paho.mqtt.enums import CallbackAPIVersion

            from actors.components.mqtt._link import release

            got: list[bytes] = []
            client = paho.Client(CallbackAPIVersion.VERSION2)
            client.on_message = lambda _c, _u, m: got.append(bytes(m.payload))
            client.connect("127.0.0.1", broker.port)
            client.loop_start()
            try:
                client.subscribe(f"{site.base}/status/update", qos=1)
                wait_until(lambda: bool(got), timeout=10, what="the retained status after the restart")
                assert msgspec.json.decode(got[0])["state"] == "online"
            finally:
                client.disconnect()
                client.loop_stop()
                release(client)
        finally:
            assert site.platform.stop() == []


def test_tls_and_a_password(tmp_path: Path, prefix: str) -> None:
    from tests.mqtt_private import private_broker

    with private_broker(tmp_path, tls=True, users={"edge": "s3cret"}) as broker:
        assert broker.ca is not None
        wrong = start(tmp_path / "wrong", prefix, url=broker.url, username="edge", password="nope",
                      ca_file=str(broker.ca))
        try:
            wait_until(lambda: wrong.health()[0] == "Degraded", timeout=10, what="refused")
            wait_until(lambda: "the broker refused the connection: Not authorized" in wrong.health()[1], timeout=10,
                       what="the refusal named")
        finally:
            assert wrong.platform.stop() == []
        site = start(tmp_path / "right", prefix, url=broker.url, username="edge", password="s3cret",
                     ca_file=str(broker.ca))
        try:
            wait_until(lambda: site.health()[0] == "Healthy", timeout=10, what="connected over TLS")
            assert site.health()[1] == f"connected to 127.0.0.1:{broker.port} as bms-acme-hq-edge1"
        finally:
            assert site.platform.stop() == []


def test_a_write_to_a_real_device_is_answered_with_the_device_s_answer(prefix: str, ctx: Any) -> None:
    """The bundled power meter on a pymodbus simulator (loopback, a free port) behind the Modbus bridge.
    (``prefix`` before ``ctx``: the actors stop, saying offline, before the prefix's retained topics are cleared.)"""
    from actors import ChildSpec
    from actors.components.auth._actor import Authority
    from actors.components.history import HistoryStore
    from actors.components.modbus import ModbusBridge
    from actors.components.mqtt._publisher import MqttPublisher, Place
    from actors.components.nodes import ModelStore
    from actors.components.points import PointStore
    from actors.components.sim_modbus import ModbusSimulatorThread
    from bms.config import LoadedScenario, ModbusDevice, ModbusNetwork, Scenario, SiteSpec, load_profile
    from bms.messages import GetPoint
    from bms.sim.modbus import ModbusSimulator

    profile, _ = load_profile(ROOT / "conf/profiles/power-meter.toml")
    assert profile is not None
    with ModbusSimulatorThread(ModbusSimulator({1: profile}, "127.0.0.1", 0)) as meter:
        device = ModbusDevice(id="meter1", profile="power-meter", host="127.0.0.1", port=meter.port, unit_id=1,
                              poll_interval=1.0)
        scenario = LoadedScenario(Path("site.toml"), Scenario(site=SiteSpec(id="s", name="S"), devices=[device]),
                                  {"power-meter": profile})  # type: ignore[dict-item]
        section = MqttSection(url=URL, prefix=prefix, org="acme", site="hq", instance="edge1",
                              users={"ops": "admin"})
        for spec in (ChildSpec("nodes", ModelStore, kwargs={"site": scenario}), ChildSpec("history", HistoryStore),
                     ChildSpec("points", PointStore), ChildSpec("auth", Authority),
                     ChildSpec("modbus.default", ModbusBridge, kwargs={
                         "network": "default", "spec": ModbusNetwork(), "devices": ((device, profile),)}),
                     ChildSpec("mqtt", MqttPublisher, kwargs={"section": section, "url": URL,
                                                              "place": Place(org="acme", site="hq", device="edge1")})):
            assert ctx.supervisor.start_child(spec) is not None, spec.name
        points = ctx.registry.get("points")
        wait_until(lambda: points.ask(GetPoint(point_id="meter1/demand_limit")).value == 250.0, what="the first poll")
        wait_until(lambda: ctx.health.get("mqtt").reason.startswith("connected"), timeout=10, what="connected")
        base = f"{prefix}/acme/hq/edge1"
        with watching(f"{base}/command/+/response") as w:
            w.publish(f"{base}/command/write/request",
                      b'{"correlation_id": "m1", "user": "ops", "point": "meter1/demand_limit", "value": 320}')
            answer = w.on(f"{base}/command/write/response").json()
        assert isinstance(answer, dict) and answer["correlation_id"] == "m1" and answer["ok"] is True, answer
        assert answer["accepted"]["device"]["ok"] is True and answer["accepted"]["device"]["readback"] == 320.0
        assert meter.read_point(1, "demand_limit") == 320.0


def test_ack_an_alarm(site: Site) -> None:
    from bms.alarms import AlarmView, ExternalAlarm, GetAlarm

    site.platform.ctx.registry.publish(ExternalAlarm(alarm_id="room1/ext", point_id="room1/temp", active=True,
                                                     severity="high", text="from outside", source="test"))
    wait_until(lambda: _alarm_state(site) == "unacknowledged", what="the alarm raised")
    with watching(f"{site.base}/command/+/response") as w:
        answer = site.request(w, "ack", {"user": "ops", "alarm_ids": ["room1/ext"]})
    assert answer["ok"] is True and answer["acked"] == ["room1/ext"]
    view: AlarmView = site.ask("alarms", GetAlarm(alarm_id="room1/ext"))
    assert view.acked and view.acked_by == "admin"
    wait_until(lambda: len(site.audit("mqtt.ack")) == 1, what="the ack audited")


def _alarm_state(site: Site) -> str:
    from bms.alarms import GetAlarm
    from bms.errors import NotFound

    try:
        return str(site.ask("alarms", GetAlarm(alarm_id="room1/ext")).state)
    except NotFound:
        return ""


def test_logic_rollback_where_the_user_may(tmp_path: Path, prefix: str) -> None:
    from bms.components import installed

    if not any(c.name == "logic" for c in installed().components):
        pytest.fail("the logic component is not installed")
    site = start(tmp_path, prefix, commands=["rollback", "deploy"], with_logic=True)
    try:
        wait_until(lambda: site.health()[0] == "Healthy", timeout=10, what="mqtt connected")
        with watching(f"{site.base}/command/+/response") as w:
            answer = site.request(w, "rollback", {"user": "ops"})
            # the logic engine's own answer, one line: nothing deployed to roll back to
            assert answer["ok"] is False and answer["error"] == "no bundle is deployed: nothing to roll back"
            bad = site.request(w, "deploy", {"user": "ops", "bundle": "AAAA"})
            assert bad["ok"] is False and bad["error"].startswith("bundle refused: not a bundle archive")
    finally:
        assert site.platform.stop() == []


class StalledBroker:
    """A broker on loopback that accepts the connection and then stops reading until told (a broker that does
    not keep up): paho's backlog grows while it stalls."""

    def __init__(self) -> None:
        import socket
        import threading

        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.reading = threading.Event()
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.recv(1024)  # CONNECT
            conn.sendall(b"\x20\x02\x00\x00")  # CONNACK: accepted
            self.reading.wait()
            conn.settimeout(0.2)
            while not self.closing.is_set():
                try:
                    if not conn.recv(65536):
                        return
                except TimeoutError:
                    continue
                except OSError:
                    return

    def close(self) -> None:
        self.reading.set()
        self.closing.set()
        self.server.close()
        self.thread.join(5)


def test_a_broker_that_does_not_keep_up_bounds_the_backlog_and_the_newest_values_follow(
        tmp_path: Path, prefix: str) -> None:
    broker = StalledBroker()
    site = start(tmp_path, prefix, url=f"mqtt://127.0.0.1:{broker.port}", max_backlog=100)
    try:
        wait_until(lambda: site.health()[0] == "Healthy", timeout=10, what="connected")
        text = "x" * 1000  # 1 kB a value: a few batches are more than the socket buffers hold
        deadline = time.monotonic() + 30
        batch = 0
        while "does not keep up" not in site.health()[1]:
            assert time.monotonic() < deadline, site.health()
            site.platform.ctx.registry.publish(ValueChanged(values=tuple(
                PointValue(point_id=f"dev{batch % 100}/p{i}", value=text, ts=float(batch)) for i in range(1000))))
            batch += 1
            try:
                wait_until(lambda: "does not keep up" in site.health()[1], timeout=0.05, what="the backlog named")
            except AssertionError:
                continue
        assert site.health()[0] == "Degraded"
        broker.reading.set()  # the broker catches up
        deadline = time.monotonic() + 30
        while site.health()[0] != "Healthy":
            assert time.monotonic() < deadline, site.health()
            tick(site, 1.0)
            try:
                wait_until(lambda: site.health()[0] == "Healthy", timeout=0.5, what="caught up")
            except AssertionError:
                continue
    finally:
        assert site.platform.stop() == []
        broker.close()
