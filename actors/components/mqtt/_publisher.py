"""The MQTT publisher as a component: ``mqtt``, the site on a broker.

It subscribes to live values with the latest-per-point policy (a slow or
absent broker coalesces values per point, it never grows memory or slows
the bridges), to alarm and device events, and to health changes; it
publishes them on the topics of :class:`bms.export.Topics`, keeps the
site's status retained (with a last will that marks it offline), sends a
heartbeat, answers command requests (:class:`CommandDesk`) and optionally
publishes Home Assistant discovery configs. The broker connection
(:class:`BrokerLink`) lives on paho's thread and reconnects with backoff;
while the broker is away the component is Degraded ("broker unreachable
...") and values are counted as dropped; on reconnection it republishes
its status and the newest value of every point.
"""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Any

import msgspec
import pykka

from actors._base import BmsActor, handles
from actors._registry import latest
from actors._supervisor import ChildSpec
from actors.components.mqtt._commands import CommandDesk, Pending
from actors.components.mqtt._link import BrokerLink
from actors.platform import Platform
from bms import __version__
from bms.alarms import AlarmAcknowledged, AlarmCleared, AlarmRaised, AlarmShelved, AlarmUnshelved
from bms.errors import BmsError, ConfigError
from bms.export import (
    ENV_URL,
    OFFLINE,
    ONLINE,
    CommandResponse,
    Equipment,
    Heartbeat,
    MqttSection,
    Problem,
    SiteStatus,
    Topics,
    ValueGate,
    broker_of,
    correlation_of,
    discovery_configs,
    encode,
)
from bms.messages import (
    DeviceDown,
    DeviceRecovered,
    EntityCreated,
    EntityDeleted,
    EntityUpdated,
    HealthChanged,
    ListNodes,
    ListPoints,
    PointState,
    PointValue,
    Tick,
    ValueChanged,
    WriteResult,
)
from bms.model import Node
from bms.supervision import Health, RestartPolicy

NAME = "mqtt"
TICK = 1.0
CONNECTING = "connecting"
ALARM_EVENTS = (AlarmRaised, AlarmCleared, AlarmAcknowledged, AlarmShelved, AlarmUnshelved)

CHUNK = 1000  # values handed to paho between two looks at its backlog (a burst stays bounded)


class BrokerUp(msgspec.Struct, frozen=True):
    pass


class BrokerDown(msgspec.Struct, frozen=True):
    reason: str


class RequestArrived(msgspec.Struct, frozen=True):
    topic: str
    payload: bytes


class Place(msgspec.Struct, frozen=True):
    """Where this instance sits: organisation, site, instance, and the site's display name."""

    org: str
    site: str
    device: str
    name: str = ""


class MqttPublisher(BmsActor):
    def __init__(self, name: str, ctx: Any, section: MqttSection, url: str, place: Place) -> None:
        super().__init__(name, ctx)
        self.section = section
        self.broker = broker_of(url)
        self.place = place
        self.topics = Topics(section.topics, section.prefix, place.org, place.site, place.device)
        self.client_id = section.client_id or re.sub(r"[^A-Za-z0-9_.-]", "_",
                                                     f"bms-{place.org}-{place.site}-{place.device}")[:128]
        self.gate = ValueGate(section.min_interval, section.deadband)
        self.desk = CommandDesk(ctx, section, self._status)
        self.link: BrokerLink | None = None
        self.connected = False
        self.down_reason = CONNECTING
        self.newest: dict[str, PointValue] = {}  # point id -> its newest value (republished on reconnection)
        self.devices_down: dict[str, str] = {}
        self.pending: dict[str, Pending] = {}  # the write's request id -> its wait for the device
        self.published = 0
        self.dropped = 0
        self.started = time.time()
        self.status_due = 0.0
        self.heartbeat_due = 0.0
        self.status_dirty = False
        self.behind = 0  # > 0: the broker does not keep up (the backlog when it was seen); values are dropped
        self.discovery_dirty = False
        self.discovered: set[str] = set()  # the discovery topics published (a point removed: its config cleared)

    # ------------------------------------------------------------- lifecycle
    def setup(self) -> None:
        ref = self.actor_ref
        if self.link is None:  # outlives restarts: one connection, one session
            will = (self.topics.status, encode(self._offline()), self.section.qos.status)
            self.link = BrokerLink(self.section, self.broker, self.client_id, will,
                                   on_up=lambda: _tell(ref, BrokerUp()),
                                   on_down=lambda why: _tell(ref, BrokerDown(reason=why)),
                                   on_message=lambda t, p: _tell(ref, RequestArrived(topic=t, payload=p)))
            self.link.start()
        self.subscribe(ValueChanged, latest())
        for event in (*ALARM_EVENTS, DeviceDown, DeviceRecovered, HealthChanged):
            self.subscribe(event)
        if self.section.discovery:  # the model changed: Home Assistant's configs follow on the next tick
            for change in (EntityCreated, EntityUpdated, EntityDeleted):
                self.subscribe(change)
        self.subscribe(WriteResult, filter=lambda r: r.request_id in self.desk.expected)
        self.ctx.ticker.every(TICK, ref, "mqtt")
        self._health()
        self.log.info("mqtt publisher ready", broker=str(self.broker), client_id=self.client_id,
                      status=self.topics.status)

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if (self.cancel.is_set() or self.actor_stopped.is_set()) and self.link is not None:  # for good
            self.link.stop(last=(self.topics.status, encode(self._offline()), self.section.qos.status))
            self.link = None

    # ------------------------------------------------------------ the broker
    @handles(BrokerUp)
    def on_up(self, _up: BrokerUp) -> None:
        assert self.link is not None
        self.connected = True
        self.behind = 0
        self._health()  # before the status: the site's health counts this component's
        self.link.subscribe(self.topics.requests, self.section.qos.commands)
        self._publish_status()
        for device_id, reason in self.devices_down.items():
            self._send(self.topics.device_status(device_id),
                       encode(DeviceDown(protocol="", device_id=device_id, ts=self.clock.now(), reason=reason)),
                       self.section.qos.device_status, retain=True)
        if self.section.discovery:
            self._discovery()
        if self.newest:
            self._values(list(self.newest.values()))
        self.log.info("broker connected", broker=str(self.broker), republished=len(self.newest))

    @handles(BrokerDown)
    def on_down(self, down: BrokerDown) -> None:
        was = self.connected
        self.connected = False
        self.down_reason = down.reason
        if was:
            self.log.warning("broker connection lost", broker=str(self.broker), reason=down.reason)
        self._health()

    # ----------------------------------------------------------- the events
    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        values = batch.values
        newest = self.newest
        for pv in values:
            newest[pv.point_id] = pv
        if not self.connected:
            self.dropped += len(values)
            return
        if not self.gate.open:
            now = self.clock.now()
            values = tuple(pv for pv in values if self.gate.admit(pv, now))
        self._values(values)

    def _values(self, values: tuple[PointValue, ...] | list[PointValue]) -> None:
        if not values:
            return
        link, qos, mode = self.link, self.section.qos, self.section.values
        assert link is not None
        if self.behind or link.backlog() > self.section.max_backlog:
            if not self.behind:
                self.behind = link.backlog()
                self.log.warning("broker does not keep up: values dropped until it catches up", backlog=self.behind)
                self._health()
            self.dropped += len(values)
            return
        sent = 0
        if mode != "bulk":
            topic = self.topics.value
            for start in range(0, len(values), CHUNK):
                if start and link.backlog() > self.section.max_backlog:  # a burst (the first values, a catch-up)
                    self.behind = link.backlog()  # the rest waits: the newest of every point goes again once it
                    self.log.warning("broker does not keep up: values dropped until it catches up",  # drains
                                     backlog=self.behind)
                    self._health()
                    break
                for pv in values[start:start + CHUNK]:
                    sent += link.publish(topic(pv.point_id), encode(pv), qos.value)
        if mode != "each":
            link.publish(self.topics.bulk, encode(values), qos.bulk)
            sent = sent if mode == "both" else len(values)
        self.published += sent
        self.dropped += len(values) - sent

    @handles(*ALARM_EVENTS)
    def on_alarm(self, event: Any) -> None:
        self._send(self.topics.alarm(event.alarm_id), encode(event), self.section.qos.alarm)
        self.status_dirty = True

    @handles(DeviceDown, DeviceRecovered)
    def on_device(self, event: DeviceDown | DeviceRecovered) -> None:
        if isinstance(event, DeviceDown):
            self.devices_down[event.device_id] = event.reason
        else:
            self.devices_down.pop(event.device_id, None)
        self._send(self.topics.device_status(event.device_id), encode(event), self.section.qos.device_status,
                   retain=True)
        self.status_dirty = True

    @handles(HealthChanged)
    def on_health(self, event: HealthChanged) -> None:
        if event.component != self.name:
            self.status_dirty = True

    @handles(EntityCreated, EntityUpdated, EntityDeleted)
    def on_model(self, _event: EntityCreated | EntityUpdated | EntityDeleted) -> None:
        self.discovery_dirty = True

    @handles(Tick)
    def on_tick(self, _tick: Tick) -> None:
        now = self.clock.now()
        if self.connected:
            if self.behind and self.link is not None and self.link.backlog() <= self.section.max_backlog // 2:
                self.behind = 0
                self.log.info("broker caught up: the newest values sent again", points=len(self.newest))
                self._health()
                self._values(list(self.newest.values()))
            if self.discovery_dirty:
                self._discovery()
            if not self.gate.open:
                self._values(self.gate.due(now))
            if self.status_dirty or now >= self.status_due:
                self._publish_status()
            if now >= self.heartbeat_due:
                self.heartbeat_due = now + self.section.heartbeat
                beat = Heartbeat(ts=now, uptime=round(time.time() - self.started, 3), published=self.published,
                                 dropped=self.dropped + self.gate.dropped)
                self._send(self.topics.heartbeat, encode(beat), self.section.qos.heartbeat)
        for request_id, waiting in list(self.pending.items()):
            if now >= waiting.deadline:  # accepted; the device has not answered (yet)
                del self.pending[request_id]
                self._respond(self.desk.settle(waiting, waiting.accepted, now))

    # ------------------------------------------------------------- commands
    @handles(RequestArrived)
    def on_request(self, msg: RequestArrived) -> None:
        name = self.topics.command_of(msg.topic)
        if name is None:
            return
        now = self.clock.now()
        cid = correlation_of(msg.payload)
        try:
            answer = self.desk.run(name, msg.payload, cid, now)
        except BmsError as err:
            self._refused(name, cid, now, str(err), "refused", msg.payload)
            return
        except Exception as err:  # a service that timed out or failed: the requester is told, the actor lives
            self.log.warning("command failed", command=name, error=repr(err))
            self._refused(name, cid, now, str(err) or type(err).__name__, "failed", msg.payload)
            return
        if answer.pending is not None:
            request_id = answer.pending.accepted.request_id
            assert request_id is not None
            self.pending[request_id] = answer.pending
        elif answer.response is not None:
            self._respond(answer.response)

    def _refused(self, name: str, cid: str, now: float, error: str, outcome: str, payload: bytes) -> None:
        try:
            asked = msgspec.json.decode(payload)
        except msgspec.DecodeError:
            asked = None
        if not isinstance(asked, dict):
            asked = {}
        mqtt_user = asked.get("user")
        # the bms user it maps to; an MQTT user that maps to none is recorded as mqtt:NAME
        if isinstance(mqtt_user, str) and mqtt_user:
            user = self.section.users.get(mqtt_user) or f"mqtt:{mqtt_user}"
        else:
            user = "mqtt:(token)" if asked.get("token") else (self.section.default_user or "mqtt:(anonymous)")
        shown = {k: v for k, v in asked.items() if k not in ("token", "bundle")}  # no secret in the audit log
        after = msgspec.json.encode(shown).decode()[:500] if shown else ""
        self.desk.audit(None, now, name=name, user=user, outcome=outcome, detail=error,
                        target=str(shown.get("point", "")), after=after)
        self.log.info("command refused", command=name, correlation_id=cid, error=error)
        self._respond(CommandResponse(correlation_id=cid, command=name, ok=False, ts=now, error=error))

    @handles(WriteResult)
    def on_write_result(self, result: WriteResult) -> None:
        waiting = self.pending.pop(result.request_id, None)
        if waiting is not None:
            accepted = msgspec.structs.replace(waiting.accepted, device=result)
            self._respond(self.desk.settle(waiting, accepted, self.clock.now()))

    def _respond(self, response: CommandResponse) -> None:
        self._send(self.topics.response(response.command), encode(response), self.section.qos.commands)

    # --------------------------------------------------------------- status
    def _status(self) -> SiteStatus:
        board = self.ctx.health
        problems = tuple(Problem(component=h.component, state=h.state, reason=h.reason)
                         for h in board.snapshot() if h.state != Health.HEALTHY.value and h.component != self.name)
        active, unacked = self.desk.active_alarms()
        p = self.place
        return SiteStatus(org=p.org, site=p.site, device=p.device, state=ONLINE, ts=self.clock.now(),
                          health=board.overall().value, problems=problems, active_alarms=active,
                          unacked_alarms=unacked, devices_down=tuple(sorted(self.devices_down)),
                          version=__version__, name=p.name, started=self.started)

    def _offline(self) -> SiteStatus:
        p = self.place
        return SiteStatus(org=p.org, site=p.site, device=p.device, state=OFFLINE, ts=time.time(),
                          version=__version__, name=p.name, started=self.started)

    def _publish_status(self) -> None:
        now = self.clock.now()
        self.status_dirty = False
        self.status_due = now + self.section.status_interval
        self._send(self.topics.status, encode(self._status()), self.section.qos.status, retain=True)

    def _send(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        if self.link is not None and self.connected:
            self.link.publish(topic, payload, qos, retain)

    def _discovery(self) -> None:
        self.discovery_dirty = False
        try:
            points: list[PointState] = self.desk.ask("points", ListPoints())
            nodes: list[Node] = self.desk.ask("nodes", ListNodes())
        except Exception as err:
            self.log.warning("home assistant discovery skipped", error=str(err) or repr(err))
            return
        configs = discovery_configs(points, _equipment(nodes), self.topics,
                                    discovery_prefix=self.section.discovery_prefix,
                                    priority=self.section.discovery_priority, user=self.section.discovery_user,
                                    site_name=self.place.name)
        for config in configs:
            self._send(config.topic, encode(config.payload), self.section.qos.discovery, retain=True)
        now = {c.topic for c in configs}
        for gone in self.discovered - now:  # an empty retained config removes the entity from Home Assistant
            self._send(gone, b"", self.section.qos.discovery, retain=True)
        self.discovered = now
        self.log.info("home assistant discovery published", entities=len(configs))

    def _health(self) -> None:
        if self.connected and self.behind:
            self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                       f"broker at {self.broker} does not keep up: {self.behind} messages waiting; "
                                       f"values dropped until it catches up")
        elif self.connected:
            self.ctx.supervisor.report(self.name, Health.HEALTHY,
                                       f"connected to {self.broker} as {self.client_id}")
        elif self.down_reason == CONNECTING:  # not yet publishing (Unknown would read as "started": Healthy)
            self.ctx.supervisor.report(self.name, Health.DEGRADED, f"connecting to {self.broker}")
        else:
            self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                       f"broker unreachable at {self.broker}: {self.down_reason} (retrying)")


def _tell(ref: Any, message: Any) -> None:
    """From paho's thread: an actor that has stopped (the daemon stopping) has nothing more to hear."""
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        pass


def _equipment(nodes: list[Node]) -> dict[str, Equipment]:
    """Each point's equipment: the nearest Equip above it."""
    by_id = {n.id: n for n in nodes}
    out: dict[str, Equipment] = {}
    for node in nodes:
        if node.type not in ("Point", "VirtualPoint"):
            continue
        parent, depth = node.parent, 0
        while parent is not None and depth < 32:
            up = by_id.get(parent)
            if up is None:
                break
            if up.type == "Equip":
                out[node.id] = Equipment(id=up.id, name=up.name)
                break
            parent, depth = up.parent, depth + 1
    return out


def mqtt_component(platform: Platform) -> list[ChildSpec]:
    section: MqttSection = platform.section(NAME)
    url = section.url or os.environ.get(ENV_URL, "")
    if not url:
        return []  # no broker configured: nothing to run
    try:
        broker_of(url)
    except ConfigError as err:
        raise ConfigError(f"{err} (from ${ENV_URL})" if not section.url else str(err)) from None
    site = platform.site.scenario.site
    place = Place(org=section.org, site=section.site or site.id,
                  device=section.instance or re.sub(r"[/#+]", "_", socket.gethostname()) or "bms", name=site.name)
    return [ChildSpec(NAME, MqttPublisher, kwargs={"section": section, "url": url, "place": place},
                      policy=RestartPolicy())]


__all__ = ["NAME", "MqttPublisher", "Place", "mqtt_component"]
