"""``[mqtt]``: the broker, the topic layout, QoS per template, rate limits, commands and Home Assistant discovery.

The section is empty by default: with no ``url`` (and no ``BMS_MQTT``
environment variable, which ``bms daemon --mqtt URL`` sets) the component
has nothing to run. Ranges are declared on the fields; what spans fields
(a template naming an unknown placeholder, a URL of another scheme) is
:meth:`MqttSection.config_problems`, reported with the rest of the file.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

ENV_URL = "BMS_MQTT"
"""The broker URL when the section names none (``bms daemon --mqtt URL`` sets it)."""

Qos = Annotated[int, Meta(ge=0, le=2)]
Seconds = Annotated[float, Meta(gt=0)]
NonNegative = Annotated[float, Meta(ge=0)]
Priority = Annotated[int, Meta(ge=1, le=16)]
TopicPart = Annotated[str, Meta(pattern=r"^[^/#+]*$", description="a topic level: no '/', '#' or '+'")]
Command = Literal["write", "read", "release", "ack", "status", "deploy", "rollback"]
COMMANDS: tuple[str, ...] = ("write", "read", "release", "ack", "status", "deploy", "rollback")
SCHEMES = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class TopicTemplates(_Strict, frozen=True):
    """Topic templates. Placeholders: ``{prefix} {org} {site} {device}`` (the bms instance) everywhere,
    ``{controller} {point}`` (the two halves of a point id) for values, ``{command}`` for commands,
    ``{alarm}`` for alarms."""

    value: str = "{prefix}/{org}/{site}/{device}/{controller}/{point}"
    bulk: str = "{prefix}/{org}/{site}/{device}/bulk"
    status: str = "{prefix}/{org}/{site}/{device}/status/update"
    heartbeat: str = "{prefix}/{org}/{site}/{device}/status/heartbeat"
    alarm: str = "{prefix}/{org}/{site}/{device}/status/alarm/{alarm}"
    device_status: str = "{prefix}/{org}/{site}/{device}/status/device/{controller}"
    request: str = "{prefix}/{org}/{site}/{device}/command/{command}/request"
    response: str = "{prefix}/{org}/{site}/{device}/command/{command}/response"


PLACEHOLDERS: dict[str, frozenset[str]] = {
    "value": frozenset({"controller", "point"}), "bulk": frozenset(), "status": frozenset(),
    "heartbeat": frozenset(), "alarm": frozenset({"alarm"}), "device_status": frozenset({"controller"}),
    "request": frozenset({"command"}), "response": frozenset({"command"}),
}
COMMON = frozenset({"prefix", "org", "site", "device"})


class QosLevels(_Strict, frozen=True):
    """QoS of each template (the request subscription uses ``commands``)."""

    value: Qos = 0
    bulk: Qos = 0
    status: Qos = 1
    heartbeat: Qos = 0
    alarm: Qos = 1
    device_status: Qos = 1
    commands: Qos = 1
    discovery: Qos = 1


class MqttSection(_Strict, frozen=True):
    """``[mqtt]`` in bms.toml."""

    url: str = ""  # mqtt://host:1883 or mqtts://host:8883; empty: $BMS_MQTT, else the component is off
    username: str = ""
    password: str = ""
    client_id: str = ""  # default bms-{org}-{site}-{device}
    keepalive: Annotated[int, Meta(ge=5, le=65535)] = 30
    ca_file: str = ""  # TLS: the CA bundle (mqtts:// uses the system's when empty)
    cert_file: str = ""  # TLS client certificate and key
    key_file: str = ""
    tls_insecure: bool = False  # do not check the broker's host name (tests, lab brokers only)
    prefix: TopicPart = "bms"
    org: TopicPart = "default"
    site: TopicPart = ""  # default: the scenario's site id
    instance: TopicPart = ""  # this bms instance, {device} in the templates; default: the host name
    topics: TopicTemplates = TopicTemplates()
    qos: QosLevels = QosLevels()
    values: Literal["each", "bulk", "both"] = "each"  # one message per point, one per batch, or both
    min_interval: NonNegative = 0.0  # per point: at most one value this often (the newest is sent when due)
    deadband: NonNegative = 0.0  # per numeric point: changes smaller than this are not sent
    heartbeat: Seconds = 30.0
    status_interval: Seconds = 60.0  # the retained status is refreshed this often (and on every change)
    reconnect_min: Seconds = 1.0
    reconnect_max: Seconds = 60.0
    max_queued: Annotated[int, Meta(ge=0)] = 10_000  # QoS>0 messages held for a broker that is away (0: no bound)
    # messages waiting for a connected broker that does not keep up; past it values are dropped (counted) and
    # the newest of every point is sent again once the backlog has halved
    max_backlog: Annotated[int, Meta(ge=1)] = 10_000
    commands: list[Command] = msgspec.field(  # the allow-list
        default_factory=lambda: ["read", "status", "write", "release", "ack"])
    # globs of the point ids that write and release may command
    command_points: list[str] = msgspec.field(default_factory=lambda: ["*"])
    users: dict[str, str] = {}  # the request's "user" (an MQTT user name) -> the bms user it runs as
    default_user: str = ""  # the bms user of a request that names none (empty: such requests are refused)
    write_wait: NonNegative = 5.0  # seconds a write waits for the device's answer before responding
    discovery: bool = False  # Home Assistant MQTT discovery
    discovery_prefix: TopicPart = "homeassistant"
    discovery_priority: Priority = 8  # Home Assistant's commands write at this priority
    discovery_user: str = "homeassistant"  # the "user" its commands carry (map it in ``users``)

    def config_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.url:
            why = url_problem(self.url)
            if why:
                problems.append(("url", why))
        for name, extra in PLACEHOLDERS.items():
            template = getattr(self.topics, name)
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            except ValueError as err:
                problems.append((f"topics.{name}", f"not a template: {err}"))
                continue
            unknown = sorted(used - COMMON - extra)
            if unknown:
                known = ", ".join("{" + k + "}" for k in sorted(COMMON | extra))
                problems.append((f"topics.{name}", f"unknown placeholder {{{unknown[0]}}} (known: {known})"))
            if any(c in template for c in "#+"):
                problems.append((f"topics.{name}", "a topic to publish may not contain '#' or '+'"))
        if self.reconnect_max < self.reconnect_min:
            problems.append(("reconnect_max", f"must be at least reconnect_min ({self.reconnect_min:g})"))
        return problems


class Broker(msgspec.Struct, frozen=True):
    """Where to connect, out of a URL."""

    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def url_problem(url: str) -> str:
    """Why ``url`` is not a broker URL ("" when it is)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        return f"not a broker URL ({err}): {url!r}"
    if parts.scheme not in SCHEMES:
        return f"scheme must be mqtt:// or mqtts://, got {url!r}"
    if not parts.hostname:
        return f"no host in {url!r}"
    if port == 0:
        return f"port must be 1..65535 in {url!r}"
    return ""


def broker_of(url: str) -> Broker:
    """The broker a URL names; :class:`~bms.errors.ConfigError` with one line when it names none."""
    from bms.errors import ConfigError

    why = url_problem(url)
    if why:
        raise ConfigError(f"mqtt url: {why}")
    parts = urlsplit(url)
    assert parts.hostname is not None
    return Broker(host=parts.hostname, port=parts.port or SCHEMES[parts.scheme], tls=parts.scheme in ("mqtts", "ssl"))
