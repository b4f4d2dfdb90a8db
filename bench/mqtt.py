"""MQTT benchmark: point values published through the mqtt component vs raw paho publish, same run.

    python bench/mqtt.py [--points 10000] [--rounds 5] [--broker mqtt://127.0.0.1:1883]

For QoS 0 and QoS 1, ``--rounds`` rounds of ``--points`` distinct points each:

* **component**: a bridge-like ``ValueChanged`` batch of 1,000 values at a
  time published on the registry of a Platform running the ``mqtt``
  component (latest-per-point subscription, topic per point, PointValue
  msgspec JSON, paho underneath);
* **raw**: one paho client publishing the same payloads (encoded beforehand)
  to the same topics in a plain loop: the floor.

Both are timed until a subscriber on the same broker has received every
value of the round (the broker and the subscriber weigh on both alike),
rounds alternate between the two, and the best round of each is kept.
The ratio component / raw is the figure (goal: at least 70%). ``run()``
returns the figures as a dict (bench/export.py calls it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.components.mqtt._link import release  # noqa: E402
from bms.config import Settings, load_scenario  # noqa: E402
from bms.export import MqttSection, Topics, broker_of, encode  # noqa: E402
from bms.messages import PointValue, ValueChanged  # noqa: E402

SITE = ROOT / "tests/data/site.toml"
BATCH = 1000
ROUND_TIMEOUT = 120.0


class Counter:
    """A subscriber that counts what arrives under a prefix and wakes the bench at a target."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.n = 0
        self.target = 0
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{uuid.uuid4().hex[:8]}")
        granted = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: granted.set()
        self.client.connect(host, port, keepalive=60)
        self.client.loop_start()
        # QoS 0 towards the subscriber: the broker does not cap it as it caps QoS 1 messages queued for a
        # slow client (Mosquitto's max_queued_messages, 1,000), so every value published arrives
        self.client.subscribe(topic, qos=0)
        if not granted.wait(10):
            raise SystemExit("error: the broker did not grant the bench's subscription")

    def _on_message(self, *_args: Any) -> None:
        with self.lock:
            self.n += 1
            if self.n >= self.target:
                self.done.set()

    def expect(self, count: int) -> None:
        with self.lock:
            self.n, self.target = 0, count
            self.done.clear()

    def wait(self) -> None:
        if not self.done.wait(ROUND_TIMEOUT):
            raise SystemExit(f"error: the subscriber got {self.n} of {self.target} values in {ROUND_TIMEOUT:g} s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        release(self.client)


def _values(points: int, round_no: int) -> list[PointValue]:
    ts = time.time()
    return [PointValue(point_id=f"dev{i // 500}/p{i % 500}", value=float(round_no * 1000 + i % 997), ts=ts)
            for i in range(points)]


def _raw_round(client: paho.Client, topics: Topics, values: list[PointValue], qos: int, sub: Counter) -> float:
    payloads = [(topics.value(v.point_id), encode(v)) for v in values]
    sub.expect(len(values))
    t0 = time.perf_counter()
    for topic, payload in payloads:
        client.publish(topic, payload, qos=qos)
    sub.wait()
    return time.perf_counter() - t0


def _component_round(registry: Any, values: list[PointValue], sub: Counter) -> float:
    batches = [ValueChanged(values=tuple(values[i:i + BATCH]), source="bench") for i in range(0, len(values), BATCH)]
    sub.expect(len(values))
    t0 = time.perf_counter()
    for batch in batches:
        registry.publish(batch)
    sub.wait()
    return time.perf_counter() - t0


def _platform(url: str, prefix: str, qos: int, data: Path) -> Any:
    from actors.platform import Platform
    from bms.components import installed
    from bms.export import QosLevels

    section = MqttSection(url=url, prefix=prefix, org="bench", site="site", instance=f"q{qos}",
                          qos=QosLevels(value=qos), max_queued=0)
    components = [c for c in installed().components if c.name == "mqtt"]
    platform = Platform(Settings(sections={"mqtt": section}), load_scenario(SITE), data, components=components)
    platform.start()
    deadline = time.monotonic() + 10
    while True:
        h = platform.ctx.health.get("mqtt")
        if h is not None and h.state == "Healthy":
            return platform
        if time.monotonic() > deadline:
            platform.stop()
            raise SystemExit(f"error: the mqtt component did not connect: {h.reason if h else 'not started'}")
        time.sleep(0.05)  # a bench waiting for a start, not a test


def run(points: int = 10_000, rounds: int = 5, url: str = "mqtt://127.0.0.1:1883",
        qos_levels: tuple[int, ...] = (0, 1), verbose: bool = False) -> dict[str, Any]:
    """Points per second through the component and through raw paho, per QoS, with their ratio."""
    from bms import logs

    logs.configure("warning", "console", None)
    broker = broker_of(url)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    out: dict[str, Any] = {"points": points, "rounds": rounds}
    for qos in qos_levels:
        topics = Topics(MqttSection().topics, prefix, "bench", "site", f"q{qos}")
        sub = Counter(broker.host, broker.port, f"{prefix}/bench/site/q{qos}/+/+")
        raw = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{uuid.uuid4().hex[:8]}")
        raw.max_queued_messages_set(0)
        raw.connect(broker.host, broker.port, keepalive=60)
        raw.loop_start()
        with tempfile.TemporaryDirectory() as data:
            platform = _platform(url, prefix, qos, Path(data))
            try:
                raw_times, comp_times = [], []
                for r in range(rounds):  # alternate: the machine's other load weighs on both alike
                    raw_times.append(_raw_round(raw, topics, _values(points, 2 * r), qos, sub))
                    comp_times.append(_component_round(platform.ctx.registry, _values(points, 2 * r + 1), sub))
                    if verbose:
                        print(f"  qos {qos} round {r + 1}: raw {points / raw_times[-1]:,.0f}/s, "
                              f"component {points / comp_times[-1]:,.0f}/s")
            finally:
                platform.stop()
                raw.publish(topics.status, b"", qos=1, retain=True).wait_for_publish(5)  # leave no retained status
                raw.disconnect()
                raw.loop_stop()
                release(raw)
                sub.close()
        raw_rate, comp_rate = points / min(raw_times), points / min(comp_times)
        out[f"qos{qos}"] = {"raw_per_s": round(raw_rate), "component_per_s": round(comp_rate),
                            "ratio": round(comp_rate / raw_rate, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    figures = run(args.points, args.rounds, args.broker, verbose=args.verbose)
    print(f"MQTT publish, {args.points:,} points per round, best of {args.rounds} (until a subscriber has them all)")
    for qos in (0, 1):
        f = figures[f"qos{qos}"]
        verdict = "ok" if f["ratio"] >= 0.7 else "below the 70% goal"
        print(f"  QoS {qos}: component {f['component_per_s']:>9,} points/s   raw paho {f['raw_per_s']:>9,} points/s"
              f"   ratio {f['ratio'] * 100:5.1f}%  ({verdict})")


if __name__ == "__main__":
    main()
