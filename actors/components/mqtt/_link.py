"""``BrokerLink``: one paho-mqtt client on its own network thread, reconnecting with backoff.

paho's thread connects, reconnects (``reconnect_min`` doubling up to
``reconnect_max``) and delivers; the link hands what happens to the
callbacks it was given (the publisher actor tells itself), so no actor ever
waits on the network. Publishing while the broker is away returns at once
(False for QoS 0; QoS 1 and 2 messages are kept, up to ``max_queued``).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bms.export import Broker, MqttSection

STOP_FLUSH = 2.0  # seconds a clean stop waits for its last (offline) status to reach the broker


class BrokerLink:
    def __init__(self, section: MqttSection, broker: Broker, client_id: str, will: tuple[str, bytes, int], *,
                 on_up: Callable[[], None], on_down: Callable[[str], None],
                 on_message: Callable[[str, bytes], None]) -> None:
        self.broker = broker
        self.client = c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                      protocol=paho.MQTTv311, clean_session=True)
        if section.username:
            c.username_pw_set(section.username, section.password or None)
        if broker.tls:
            c.tls_set(ca_certs=section.ca_file or None, certfile=section.cert_file or None,
                      keyfile=section.key_file or None, cert_reqs=ssl.CERT_REQUIRED)
            c.tls_insecure_set(section.tls_insecure)
        topic, payload, qos = will
        c.will_set(topic, payload, qos=qos, retain=True)
        c.reconnect_delay_set(max(1, round(section.reconnect_min)), max(1, round(section.reconnect_max)))
        c.max_queued_messages_set(section.max_queued)
        self.keepalive = section.keepalive
        self._up, self._down, self._message = on_up, on_down, on_message
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_connect_fail = self._on_connect_fail
        c.on_message = self._on_message
        self.started = False
        self._refusal = ""

    # ------------------------------------------------------ on paho's thread
    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self._refusal = f"the broker refused the connection: {reason}"
            self._down(self._refusal)
        else:
            self._refusal = ""
            self._up()

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        # the disconnection that follows a refusal says less than the refusal: keep the refusal
        self._down(self._refusal or (str(reason) if reason is not None and reason.is_failure else "disconnected"))

    def _on_connect_fail(self, _c: Any, _u: Any) -> None:
        self._down("connection failed")

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        self._message(message.topic, bytes(message.payload))

    # ----------------------------------------------------------- the owner
    def start(self) -> None:
        """Connect in the background: a broker that is down now is retried, never waited for."""
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.keepalive)
        self.client.loop_start()
        self.started = True

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> bool:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == paho.MQTT_ERR_SUCCESS

    def backlog(self) -> int:
        """Messages handed to paho and not yet written to the socket (a broker that does not keep up)."""
        return len(getattr(self.client, "_out_packet", ()))  # paho keeps no public count of it

    def subscribe(self, topic: str, qos: int) -> None:
        self.client.subscribe(topic, qos=qos)

    def stop(self, last: tuple[str, bytes, int] | None = None) -> None:
        """Publish ``last`` (retained; the site's offline status) if connected, then disconnect."""
        if not self.started:
            return
        if last is not None and self.client.is_connected():
            topic, payload, qos = last
            info = self.client.publish(topic, payload, qos=qos, retain=True)
            try:
                info.wait_for_publish(STOP_FLUSH)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
        release(self.client)
        self.started = False


def release(client: paho.Client) -> None:
    """Close what ``loop_stop`` leaves open: paho's wake-up socket pair (else closed only when the client is
    collected, which a reference cycle through its callbacks leaves to the garbage collector, in any order).

    paho 2.x has no public call for it: its finalizer's own ``_reset_sockets`` is used when there (pinned by
    tests/actors/test_mqtt.py, which fails on a ResourceWarning), and the callbacks are dropped either way,
    so that without it the client is freed, and its finalizer run, as soon as the last reference goes."""
    reset = getattr(client, "_reset_sockets", None)
    if callable(reset):
        reset()
    for name in ("on_connect", "on_connect_fail", "on_disconnect", "on_message", "on_publish", "on_subscribe"):
        setattr(client, name, None)
