"""Home Assistant MQTT discovery: one retained config per point, grouped by equipment as HA devices.

A read-only number (or enum, or text) is a ``sensor``, a read-only bool a
``binary_sensor``; a writable number is a ``number`` and a writable bool a
``switch``, whose commands are write requests on this instance's ``write``
command topic at the configured priority, as the configured user. Every
entity is available while the site's retained status says online.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

import msgspec

from bms.export._topics import Topics
from bms.messages import PointState

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class Equipment(msgspec.Struct, frozen=True):
    """The HA device a point belongs to: its equipment (or, without one, the site)."""

    id: str
    name: str


class DiscoveryConfig(msgspec.Struct, frozen=True):
    topic: str
    payload: dict[str, object]
    component: str  # sensor | binary_sensor | number | switch


def safe(text: str) -> str:
    return _UNSAFE.sub("_", text)


def component_of(state: PointState) -> str:
    if state.kind == "bool":
        return "switch" if state.writable else "binary_sensor"
    if state.kind == "number" and state.writable:
        return "number"
    return "sensor"


def _command(point_id: str, value: str, priority: int, user: str) -> str:
    head = json.dumps({"point": point_id, "priority": priority, "user": user})[:-1]
    return f'{head}, "value": {value}}}'


def discovery_configs(points: Iterable[PointState], equipment: Mapping[str, Equipment], topics: Topics, *,
                      discovery_prefix: str = "homeassistant", priority: int = 8, user: str = "homeassistant",
                      site_name: str = "") -> list[DiscoveryConfig]:
    """The discovery config of each point (``equipment``: point id -> its HA device)."""
    c = topics.common
    node = safe(f"bms_{c['org']}_{c['site']}_{c['device']}")
    site_device = Equipment(id=c["site"], name=site_name or c["site"])
    out = []
    for state in points:
        kind = component_of(state)
        equip = equipment.get(state.point_id, site_device)
        unique = safe(f"{node}_{state.point_id}")
        payload: dict[str, object] = {
            "name": state.name or state.point_id,
            "unique_id": unique,
            "object_id": unique,
            "state_topic": topics.value(state.point_id),
            "availability_topic": topics.status,
            "availability_template": "{{ value_json.state }}",
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": {
                "identifiers": [safe(f"{node}_{equip.id}")],
                "name": equip.name,
                "manufacturer": "bms",
                "model": "equipment" if equip is not site_device else "site",
                "suggested_area": site_device.name,
            },
        }
        if kind in ("switch", "binary_sensor"):
            payload["value_template"] = "{{ 'ON' if value_json.value else 'OFF' }}"
        else:
            payload["value_template"] = "{{ value_json.value }}"
            if state.unit and state.kind == "number":
                payload["unit_of_measurement"] = state.unit
        if kind == "switch":
            payload["command_topic"] = topics.request("write")
            payload["payload_on"] = _command(state.point_id, "true", priority, user)
            payload["payload_off"] = _command(state.point_id, "false", priority, user)
            payload["state_on"], payload["state_off"] = "ON", "OFF"
        elif kind == "number":
            payload["command_topic"] = topics.request("write")
            payload["command_template"] = _command(state.point_id, "{{ value }}", priority, user)
            payload.update({"min": -1_000_000, "max": 1_000_000, "step": 0.1, "mode": "box"})
        topic = f"{discovery_prefix}/{kind}/{node}/{safe(state.point_id)}/config"
        out.append(DiscoveryConfig(topic=topic, payload=payload, component=kind))
    return out
