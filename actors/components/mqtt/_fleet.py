"""``read_fleet``: the sites under a prefix, from their retained status topics on a broker.

Retained messages arrive right after the subscription is granted; the
reader stops once ``quiet`` seconds pass without a new one (or ``wait``
seconds in all), so a fleet of hundreds of sites is read in well under a
second more than it takes to arrive.
"""

from __future__ import annotations

import threading
import time
import uuid

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from actors.components.mqtt._link import release
from bms.errors import Unavailable
from bms.export import SiteStatus, broker_of, decode_status, status_filter


class FleetSite(msgspec.Struct, frozen=True, kw_only=True):
    """One site of the fleet as ``bms fleet status`` shows it (``--json``)."""

    topic: str
    org: str
    site: str
    device: str
    state: str
    health: str
    last_seen: float
    age: float
    active_alarms: int = 0
    unacked_alarms: int = 0
    devices_down: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    name: str = ""
    version: str = ""
    error: str = ""  # a retained payload that is not a status


def fleet_sites(found: dict[str, bytes], now: float, stale: float) -> list[FleetSite]:
    """The sites of the retained payloads by topic; an online site silent for ``stale`` s is ``stale``."""
    out: list[FleetSite] = []
    for topic, payload in sorted(found.items()):
        if not payload:  # a cleared retained message
            continue
        try:
            s: SiteStatus = decode_status(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            parts = topic.split("/")
            out.append(FleetSite(topic=topic, org=parts[1] if len(parts) > 1 else "", site=parts[2] if len(parts) > 2 else "",
                                 device=parts[3] if len(parts) > 3 else "", state="unknown", health="Unknown",
                                 last_seen=0.0, age=0.0, error=f"not a site status: {err}"))
            continue
        state = "stale" if s.state == "online" and now - s.ts > stale else s.state
        out.append(FleetSite(topic=topic, org=s.org, site=s.site, device=s.device, state=state,
                             health=s.health if s.state == "online" else "Unknown", last_seen=s.ts,
                             age=max(0.0, now - s.ts), active_alarms=s.active_alarms,
                             unacked_alarms=s.unacked_alarms, devices_down=s.devices_down,
                             problems=tuple(f"{p.component}: {p.state} {p.reason}".strip() for p in s.problems),
                             name=s.name, version=s.version))
    return out


def read_fleet(url: str, prefix: str = "bms", *, username: str = "", password: str = "", wait: float = 3.0,
               quiet: float = 0.5, connect_timeout: float = 5.0) -> dict[str, bytes]:
    """Retained status payloads by topic; :class:`~bms.errors.Unavailable` (one line) when the broker is not there."""
    broker = broker_of(url)
    found: dict[str, bytes] = {}
    lock = threading.Lock()
    granted = threading.Event()
    arrived = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bms-fleet-{uuid.uuid4().hex[:12]}",
                         protocol=paho.MQTTv311, clean_session=True)
    if username:
        client.username_pw_set(username, password or None)
    if broker.tls:
        client.tls_set()

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with lock:
            found[msg.topic] = bytes(msg.payload)
        arrived.set()

    def on_subscribe(*_args: object) -> None:
        granted.set()

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    try:
        client.connect(broker.host, broker.port, keepalive=30)
    except (OSError, ValueError) as err:
        raise Unavailable(f"cannot reach the MQTT broker at {broker}: {err}") from None
    client.loop_start()
    try:
        client.subscribe(status_filter(prefix), qos=1)
        deadline = time.monotonic() + wait
        if not granted.wait(connect_timeout):
            raise Unavailable(f"the MQTT broker at {broker} did not grant the subscription")
        while True:  # until ``quiet`` s pass without a message, or the deadline
            left = deadline - time.monotonic()
            if left <= 0:
                break
            arrived.clear()
            if not arrived.wait(min(quiet, left)):
                break
    finally:
        client.disconnect()
        client.loop_stop()
        release(client)
    with lock:
        return dict(found)
