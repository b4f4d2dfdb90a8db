"""Integrations' plain logic: payload formats and topic / measurement mapping (no threads, no sockets).

MQTT (the ``mqtt`` component):

* :class:`MqttSection` (``[mqtt]``), :func:`broker_of`;
* :class:`Topics`: the topic layout ``{prefix}/{org}/{site}/{device}/...``,
  :func:`status_filter` for the fleet;
* :class:`SiteStatus`, :class:`Heartbeat`, :class:`CommandRequest`,
  :class:`CommandResponse`: the payloads beside the registry's own messages;
* :class:`ValueGate`: per-point rate limit and deadband;
* :func:`admit`: a command request checked against the allow-list and mapped
  to the bms user it runs as; :data:`PERMISSION` each command needs;
* :func:`discovery_configs`: Home Assistant MQTT discovery.
"""

from __future__ import annotations

from bms.export._discovery import DiscoveryConfig, Equipment, component_of, discovery_configs
from bms.export._mqtt_commands import PERMISSION, BadCommand, Command, admit, correlation_of, decode_request
from bms.export._mqtt_payloads import (
    OFFLINE,
    ONLINE,
    CommandRequest,
    CommandResponse,
    Heartbeat,
    Problem,
    SiteStatus,
    decode_status,
    encode,
)
from bms.export._mqtt_rate import ValueGate
from bms.export._mqtt_settings import (
    COMMANDS,
    ENV_URL,
    Broker,
    MqttSection,
    QosLevels,
    TopicTemplates,
    broker_of,
    url_problem,
)
from bms.export._topics import Topics, split_point, status_filter

__all__ = [
    "COMMANDS", "ENV_URL", "OFFLINE", "ONLINE", "PERMISSION", "BadCommand", "Broker", "Command", "CommandRequest",
    "CommandResponse", "DiscoveryConfig", "Equipment", "Heartbeat", "MqttSection", "Problem", "QosLevels", "SiteStatus",
    "TopicTemplates", "Topics", "ValueGate", "admit", "broker_of", "component_of", "correlation_of",
    "decode_request", "decode_status", "discovery_configs", "encode", "split_point", "status_filter",
    "url_problem",
]
