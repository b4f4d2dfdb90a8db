"""A test's own view of the machine's real Mosquitto (127.0.0.1:1883): a subscriber that collects, and a
publisher. Every test uses a prefix of its own, so runs and parallel sessions never see each other.

The broker is a requirement, not an option: a test that cannot reach it fails (the machine starts
Mosquitto before a session and CI; ``mosquitto -d -c /etc/mosquitto/mosquitto.conf`` starts it again)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from actors.components.mqtt._link import release

HOST, PORT = "127.0.0.1", 1883
URL = f"mqtt://{HOST}:{PORT}"


def unique(stem: str = "t") -> str:
    return f"{stem}{uuid.uuid4().hex[:10]}"


class Seen(msgspec.Struct):
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> object:
        return msgspec.json.decode(self.payload)


class Watcher:
    """Subscribes to ``topics`` and keeps every message, in order."""

    def __init__(self, *topics: str, client_id: str | None = None) -> None:
        self.seen: list[Seen] = []
        self._cond = threading.Condition()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id or unique("watch"),
                                  protocol=paho.MQTTv311)
        granted = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: granted.set()
        self.client.connect(HOST, PORT, keepalive=30)
        self.client.loop_start()
        for topic in topics:
            granted.clear()
            self.client.subscribe(topic, qos=1)
            assert granted.wait(5), f"subscription to {topic} not granted"

    def _on_message(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with self._cond:
            self.seen.append(Seen(topic=msg.topic, payload=bytes(msg.payload), retain=bool(msg.retain)))
            self._cond.notify_all()

    def wait_for(self, match: Callable[[Seen], bool], timeout: float = 10.0, what: str = "a message") -> Seen:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for one in self.seen:
                    if match(one):
                        return one
                left = deadline - time.monotonic()
                if left <= 0:
                    topics = sorted({s.topic for s in self.seen})[:20]
                    raise AssertionError(f"timed out waiting for {what}; topics seen: {topics}")
                self._cond.wait(left)

    def on(self, topic: str, timeout: float = 10.0, where: Callable[[object], bool] | None = None) -> Seen:
        return self.wait_for(lambda s: s.topic == topic and (where is None or where(s.json())), timeout, topic)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        release(self.client)


@contextmanager
def watching(*topics: str) -> Iterator[Watcher]:
    w = Watcher(*topics)
    try:
        yield w
    finally:
        w.close()


def clear_retained(prefix: str) -> None:
    """Empty the retained messages a test left under ``prefix`` (the broker keeps them otherwise)."""
    with watching(f"{prefix}/#") as w:
        marker = f"{prefix}/{unique('end')}"  # arrives after the retained ones the subscription brought
        w.publish(marker, b"end")
        w.on(marker)
        for topic in {s.topic for s in w.seen if s.retain}:
            w.publish(topic, b"", retain=True)
