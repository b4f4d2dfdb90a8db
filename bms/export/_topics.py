"""``Topics``: the MQTT topic of each thing a site publishes, and the command a request topic names.

The default layout, shared with the fleet (``bms fleet status``)::

    {prefix}/{org}/{site}/{device}/{controller}/{point}          a point's value (point id = controller/point)
    {prefix}/{org}/{site}/{device}/bulk                          a batch of values
    {prefix}/{org}/{site}/{device}/status/update                 the site's status (retained; last will: offline)
    {prefix}/{org}/{site}/{device}/status/heartbeat
    {prefix}/{org}/{site}/{device}/status/alarm/{alarm}          alarm events
    {prefix}/{org}/{site}/{device}/status/device/{controller}    a field device down / recovered (retained)
    {prefix}/{org}/{site}/{device}/command/{command}/request     commands in ...
    {prefix}/{org}/{site}/{device}/command/{command}/response    ... and their answers

``{device}`` is the bms instance; ``{org}`` and ``{site}`` put it in an
organisation -> site -> instance hierarchy, so one broker serves many tenants.
"""

from __future__ import annotations

import re

from bms.export._mqtt_settings import TopicTemplates

NO_CONTROLLER = "_"
"""The controller level of a point id without a '/' (a site-level virtual point)."""


def split_point(point_id: str) -> tuple[str, str]:
    """``ahu1/sat`` -> (``ahu1``, ``sat``); the rest of a deeper id stays in the point level's name."""
    controller, sep, point = point_id.partition("/")
    if not sep:
        return NO_CONTROLLER, point_id
    return controller, point.replace("/", "~")


def _level(text: str) -> str:
    """A name made safe as one topic level (MQTT wildcards and separators replaced)."""
    return text.replace("/", "~").replace("+", "_").replace("#", "_") or NO_CONTROLLER


class Topics:
    """Topics of one bms instance, from the templates and its place in the hierarchy."""

    def __init__(self, templates: TopicTemplates, prefix: str, org: str, site: str, device: str) -> None:
        self.t = templates
        self.common = {"prefix": prefix, "org": org, "site": site, "device": device}
        self._values: dict[str, str] = {}  # point id -> topic: a site publishes the same few thousand again and again
        self.status = templates.status.format(**self.common)
        self.heartbeat = templates.heartbeat.format(**self.common)
        self.bulk = templates.bulk.format(**self.common)
        self.requests = templates.request.format(**self.common, command="+")  # the subscription
        pattern = re.escape(templates.request.format(**self.common, command="\x00")).replace("\x00", "([^/]+)")
        self._request = re.compile(f"^{pattern}$")

    def value(self, point_id: str) -> str:
        topic = self._values.get(point_id)
        if topic is None:
            controller, point = split_point(point_id)
            topic = self._values[point_id] = self.t.value.format(**self.common, controller=_level(controller),
                                                                 point=_level(point))
        return topic

    def alarm(self, alarm_id: str) -> str:
        return self.t.alarm.format(**self.common, alarm=_level(alarm_id))

    def device_status(self, device_id: str) -> str:
        return self.t.device_status.format(**self.common, controller=_level(device_id))

    def request(self, command: str) -> str:
        return self.t.request.format(**self.common, command=command)

    def response(self, command: str) -> str:
        return self.t.response.format(**self.common, command=_level(command))

    def command_of(self, topic: str) -> str | None:
        """The command a request topic names (None: not a request topic of this instance)."""
        found = self._request.match(topic)
        return found.group(1) if found else None


def status_filter(prefix: str, templates: TopicTemplates | None = None) -> str:
    """The subscription that sees every site's retained status under ``prefix`` (``bms fleet status``)."""
    t = templates or TopicTemplates()
    return t.status.format(prefix=prefix, org="+", site="+", device="+")
