"""``mqtt``: the site on an MQTT broker -- values, alarms, device status, site health, command topics,
Home Assistant discovery -- and ``bms fleet status`` over the sites of a broker.

The plain logic (topics, payloads, rate limit, command checks, discovery)
is :mod:`bms.export`; this package runs it: the publisher actor
(``_publisher``) over a paho-mqtt link (``_link``), the command desk
(``_commands``), the fleet reader (``_fleet``) and its command (``_cli``).
With no ``[mqtt] url`` and no ``BMS_MQTT`` the component runs nothing;
``bms daemon --mqtt URL`` sets ``BMS_MQTT`` for the daemon it starts.
"""

from __future__ import annotations

import os
from typing import Any

import click

from actors.components import lazy, lazy_exports
from bms.components import Component
from bms.export import ENV_URL, MqttSection, url_problem


def _commands() -> list[Any]:
    from actors.components.mqtt._cli import fleet

    return [fleet]


def _set_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        why = url_problem(value)
        if why:
            raise click.BadParameter(why)
        os.environ[ENV_URL] = value


def _daemon_options() -> list[click.Parameter]:
    return [click.Option(["--mqtt"], metavar="URL", expose_value=False, callback=_set_url,
                         help="Publish the site to this MQTT broker (mqtt://host:1883) with the default topics "
                              f"(sets {ENV_URL}; [mqtt] in the settings file says more).")]


COMPONENT = Component(
    name="mqtt",
    children=lazy("actors.components.mqtt._publisher", "mqtt_component"),
    after=("points", "alarms", "auth", "audit", "logic"),
    settings=MqttSection,
    commands=_commands,
    daemon_options=_daemon_options,
    description="the site on an MQTT broker: values, alarms, status (retained, last will), commands, "
                "Home Assistant discovery; bms fleet status",
)

__getattr__ = lazy_exports(__name__, {"MqttPublisher": "._publisher", "mqtt_component": "._publisher",
                                      "read_fleet": "._fleet", "fleet_sites": "._fleet"})
__all__ = ["COMPONENT", "MqttPublisher", "fleet_sites", "mqtt_component", "read_fleet"]
