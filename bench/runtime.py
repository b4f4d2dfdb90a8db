"""Runtime benchmark: registry fan-out vs raw pykka tell, and restart latency.

    python bench/runtime.py [--messages N]

Prints, for 1 and 6 subscribers and batches of 1 and 1000 point values,
messages/s and points/s published through ``Registry.publish`` (lossless),
beside the same messages ``tell``-ed directly to the same actors, and
``tell``-ed to plain ``pykka.ThreadingActor`` counters (the raw library,
with its default ``queue.Queue`` inbox), in the same run, and the ratios. Then the restart latency of a crashed actor: from
the raise in the handler to the next message being handled (median, p99).
Goals (issue 2): fan-out >= 80% of raw tell; restart < 10 ms median.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

import pykka

from actors import LOSSLESS, BmsActor, ChildSpec, Context, handles, make_context
from bms.messages import PointValue, ValueChanged
from bms.supervision import RestartPolicy


class Counter(BmsActor):
    created: list[Counter] = []

    def __init__(self, name: str, ctx: Context, target: int, done: threading.Event) -> None:
        super().__init__(name, ctx)
        Counter.created.append(self)
        self.target = target
        self.n = 0
        self.done = done

    def reset(self, target: int, done: threading.Event) -> None:
        self.n, self.target, self.done = 0, target, done

    @handles(ValueChanged)
    def on_values(self, msg: ValueChanged) -> None:
        self.n += 1
        if self.n == self.target:
            self.done.set()


class Crasher(BmsActor):
    marks: list[tuple[float, float]] = []

    def __init__(self, name: str, ctx: Context) -> None:
        super().__init__(name, ctx)
        self.raised_at = 0.0

    @handles(ValueChanged)
    def on_values(self, msg: ValueChanged) -> None:
        if msg.source == "crash":
            Crasher.pending = time.perf_counter()
            raise RuntimeError("crash")
        Crasher.marks.append((Crasher.pending, time.perf_counter()))

    pending = 0.0


class PlainCounter(pykka.ThreadingActor):
    """The raw library: a stock pykka actor counting what it is told."""

    created: list[PlainCounter] = []

    def __init__(self) -> None:
        super().__init__()
        PlainCounter.created.append(self)
        self.target, self.n, self.done = 0, 0, threading.Event()

    def reset(self, target: int, done: threading.Event) -> None:
        self.n, self.target, self.done = 0, target, done

    def on_receive(self, message: Any) -> None:
        self.n += 1
        if self.n == self.target:
            self.done.set()


def _batch(size: int) -> ValueChanged:
    return ValueChanged(values=tuple(PointValue(f"dev/p{i}", float(i), 0.0) for i in range(size)))


def _run(ctx: Context, refs: list[Any], actors: list[Any], msg: ValueChanged, n: int, via_registry: bool) -> float:
    events = [threading.Event() for _ in actors]
    for actor, ev in zip(actors, events, strict=True):
        actor.reset(n, ev)
    publish = ctx.registry.publish
    t0 = time.perf_counter()
    if via_registry:
        for _ in range(n):
            publish(msg)
    else:
        for _ in range(n):
            for ref in refs:
                ref.tell(msg)
    for ev in events:
        ev.wait(120)
    return time.perf_counter() - t0


def fanout(n_msgs: int) -> None:
    print(f"{'subs':>4} {'batch':>5} {'pykka msg/s':>12} {'tell msg/s':>12} {'registry msg/s':>15} "
          f"{'registry points/s':>18} {'/tell':>6} {'/pykka':>7}")
    for subs in (1, 6):
        for size in (1, 1000):
            ctx = make_context()
            actors: list[Counter] = []
            refs = []
            for i in range(subs):
                done = threading.Event()
                ref = ctx.supervisor.start_child(ChildSpec(f"c{i}", Counter, dict(target=0, done=done)))
                assert ref is not None
                refs.append(ref)
                actors.append(Counter.created[-1])
                ctx.registry.subscribe(ValueChanged, ref, LOSSLESS)
            plain_refs = [PlainCounter.start() for _ in range(subs)]
            plain = PlainCounter.created[-subs:]
            msg = _batch(size)
            n = n_msgs if size == 1 else max(n_msgs // 20, 1000)
            lib, raw, reg = [], [], []
            for _ in range(3):  # interleave to share machine noise
                lib.append(_run(ctx, plain_refs, plain, msg, n, via_registry=False))
                raw.append(_run(ctx, refs, actors, msg, n, via_registry=False))
                reg.append(_run(ctx, refs, actors, msg, n, via_registry=True))
            lib_rate, raw_rate, reg_rate = n / min(lib), n / min(raw), n / min(reg)
            print(f"{subs:>4} {size:>5} {lib_rate:>12,.0f} {raw_rate:>12,.0f} {reg_rate:>15,.0f} "
                  f"{reg_rate * size:>18,.0f} {reg_rate / raw_rate:>6.2f} {reg_rate / lib_rate:>7.2f}")
            for ref in plain_refs:
                ref.stop()
            ctx.supervisor.stop_all()


def restart_latency(samples: int) -> None:
    ctx = make_context()
    policy = RestartPolicy(max_restarts=samples * 2, within=1.0, backoff_initial=0.0, backoff_max=0.0)
    ref = ctx.supervisor.start_child(ChildSpec("crasher", Crasher, {}, policy))
    assert ref is not None
    crash = ValueChanged(values=(), source="crash")
    ok = ValueChanged(values=(), source="ok")
    Crasher.marks = []
    for _ in range(samples):
        ref.tell(crash)
        ref.ask(ok)  # the handler after the restart records the latency
    lat = sorted((b - a) * 1000 for a, b in Crasher.marks)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"restart latency over {len(lat)} crashes: median {statistics.median(lat):.3f} ms, p99 {p99:.3f} ms")
    ctx.supervisor.stop_all()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000, help="messages per run for batch size 1")
    ap.add_argument("--restarts", type=int, default=500)
    args = ap.parse_args()
    import logging

    from bms import logs

    logs.configure("critical", "console")  # the crashes would log 500 errors
    logging.getLogger("pykka").setLevel(logging.CRITICAL)
    fanout(args.messages)
    restart_latency(args.restarts)
    pykka.ActorRegistry.stop_all()


if __name__ == "__main__":
    main()
