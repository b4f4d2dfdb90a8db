"""The registry: typed routing of messages in place of a broadcast bus.

Subscribers register ``(message type, actor, delivery policy, filter)``.
``publish(msg)`` looks the subscribers up in a copy-on-write table (no lock
on the read path) and delivers to each directly from the publishing thread:
there is no central actor hop.

Delivery policies
-----------------
``LOSSLESS``
    ``tell`` straight into the subscriber's mailbox. Never dropped; the
    mailbox depth is the backpressure figure and shows in health.
``latest(key=...)``
    Coalesce per key (a ``ValueChanged`` batch is split per point id) in a
    buffer owned by the subscription; the subscriber is told once that the
    buffer has work and drains it when it gets there. A stalled subscriber
    holds at most one value per key.
``drop_oldest(n)``
    A ring of the ``n`` newest messages; older ones are dropped and counted.
``merged(max_values)``
    Lossless, for writers whose cost is per batch (history: one transaction
    and one rollup update per point per batch). Messages wait in the
    subscription's buffer; when the subscriber gets to them, consecutive
    ``ValueChanged`` batches are joined into one of at most ``max_values``
    values, in order. Nothing is dropped; the buffer is the backpressure
    figure (``pending``), and under load the subscriber catches up in
    bigger, cheaper batches instead of falling further behind.

A subscription to :class:`bms.messages.Message` receives every type.
Named lookup (``register_name`` / ``get``) gives the current reference of a
service; supervised actors restart in place, so a reference stays valid.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

import pykka
import structlog

from bms.errors import NotFound
from bms.messages import Message, PointValue, ValueChanged

Filter = Callable[[Any], Any]
"""Returns True/the message to deliver, a narrowed message, or False/None to skip."""

_log = structlog.get_logger().bind(actor="registry")


class Policy:
    """A delivery policy; instances are shared descriptions, not buffers."""

    kind: Literal["lossless", "latest", "drop_oldest"] = "lossless"

    def __repr__(self) -> str:
        return self.kind


class _Lossless(Policy):
    kind: Literal["lossless", "latest", "drop_oldest"] = "lossless"


class _Latest(Policy):
    kind: Literal["lossless", "latest", "drop_oldest"] = "latest"

    def __init__(self, key: Callable[[Any], Any] | None) -> None:
        self.key = key


class _DropOldest(Policy):
    kind: Literal["lossless", "latest", "drop_oldest"] = "drop_oldest"

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("drop_oldest needs n >= 1")
        self.n = n

    def __repr__(self) -> str:
        return f"drop_oldest({self.n})"


class _Merged(Policy):
    kind: Literal["lossless", "latest", "drop_oldest"] = "lossless"

    def __init__(self, max_values: int) -> None:
        if max_values < 1:
            raise ValueError("merged needs max_values >= 1")
        self.max_values = max_values

    def __repr__(self) -> str:
        return f"lossless(merged <= {self.max_values})"


LOSSLESS: Policy = _Lossless()


def merged(max_values: int = 50_000) -> Policy:
    """Lossless, consecutive ValueChanged batches joined (up to ``max_values``) when the subscriber drains."""
    return _Merged(max_values)


def latest(key: Callable[[Any], Any] | None = None) -> Policy:
    """Coalesce per key; the default key is the message's point/node/device id."""
    return _Latest(key)


def drop_oldest(n: int) -> Policy:
    return _DropOldest(n)


def _default_key(msg: Any) -> Any:
    for attr in ("point_id", "node_id", "device_id", "component", "alarm_id"):
        value = getattr(msg, attr, None)
        if value is not None:
            return value
    return type(msg)


class Drain:
    """Internal note to a subscriber: its subscription buffer has messages."""

    __slots__ = ("subscription",)

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription


class Subscription:
    """One subscriber of one message type, with its own buffer and counters."""

    def __init__(
        self,
        msg_type: type,
        ref: pykka.ActorRef[Any],
        policy: Policy,
        filter: Filter | None,
        name: str,
    ) -> None:
        self.msg_type = msg_type
        self.ref = ref
        self.policy = policy
        self.filter = filter
        self.name = name
        self._offered = 0
        self._offers = itertools.count()  # lossless offers (the hot path) count here
        self.dropped = 0
        self.dead = 0
        self._lock = threading.Lock()
        self._scheduled = False
        self._pending: dict[Any, Any] = {}
        self._ring: deque[Any] = deque(maxlen=policy.n if isinstance(policy, _DropOldest) else None)
        self._queue: list[Any] = []
        if isinstance(policy, _Lossless):
            self.offer = self._offer_lossless  # type: ignore[method-assign]
        elif isinstance(policy, _Merged):
            self.offer = self._offer_merged  # type: ignore[method-assign]
        elif isinstance(policy, _Latest):
            self._key = policy.key or _default_key
            self.offer = self._offer_latest  # type: ignore[method-assign]
        else:
            self.offer = self._offer_ring  # type: ignore[method-assign]

    @property
    def offered(self) -> int:
        """Messages offered to this subscription (exact under concurrent publishers)."""
        lossless = int(repr(self._offers)[len("count("):-1])  # itertools.count shows its next value
        return self._offered + lossless

    def offer(self, msg: Any) -> None:  # replaced per policy in __init__
        raise NotImplementedError

    def _tell(self, msg: Any) -> None:
        try:
            self.ref.tell(msg)
        except pykka.ActorDeadError:
            with self._lock:
                self.dead += 1

    def _offer_lossless(self, msg: Any) -> None:
        next(self._offers)  # exact across publisher threads without a lock: one C call (`+=` is not atomic)
        try:  # _tell, inlined: the hot path of every lossless subscriber
            self.ref.tell(msg)
        except pykka.ActorDeadError:
            with self._lock:
                self.dead += 1

    def _offer_latest(self, msg: Any) -> None:
        with self._lock:
            self._offered += 1
            if isinstance(msg, ValueChanged):
                pending = self._pending
                for value in msg.values:
                    if value.point_id in pending:
                        self.dropped += 1
                    pending[value.point_id] = value
            else:
                key = self._key(msg)
                if key in self._pending:
                    self.dropped += 1
                self._pending[key] = msg
            if self._scheduled:
                return
            self._scheduled = True
        self._tell(Drain(self))

    def _offer_merged(self, msg: Any) -> None:
        with self._lock:
            self._offered += 1
            self._queue.append(msg)
            if self._scheduled:
                return
            self._scheduled = True
        self._tell(Drain(self))

    def _offer_ring(self, msg: Any) -> None:
        with self._lock:
            self._offered += 1
            if len(self._ring) == self._ring.maxlen:
                self.dropped += 1
            self._ring.append(msg)
            if self._scheduled:
                return
            self._scheduled = True
        self._tell(Drain(self))

    def take(self) -> list[Any]:
        """Called by the subscriber: everything buffered, as messages."""
        if isinstance(self.policy, _Merged):
            with self._lock:
                self._scheduled = False
                queued, self._queue = self._queue, []
            return _join(queued, self.policy.max_values)
        with self._lock:
            self._scheduled = False
            if isinstance(self.policy, _Latest):
                items, self._pending = self._pending, {}
            else:
                items = {i: m for i, m in enumerate(self._ring)}
                self._ring.clear()
        out: list[Any] = []
        values: list[PointValue] = []
        for item in items.values():
            if isinstance(item, PointValue):
                values.append(item)
            else:
                out.append(item)
        if values:
            out.insert(0, ValueChanged(values=tuple(values), source="coalesced"))
        return out

    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._ring) + len(self._queue)

    def depth(self) -> int:
        inbox = getattr(self.ref, "actor_inbox", None)
        return inbox.qsize() if inbox is not None else 0

    def stats(self) -> dict[str, Any]:
        return {
            "subscriber": self.name,
            "type": self.msg_type.__name__,
            "policy": repr(self.policy),
            "offered": self.offered,
            "dropped": self.dropped,
            "pending": self.pending(),
            "mailbox": self.depth(),
            "undeliverable": self.dead,
        }


def _join(queued: list[Any], limit: int) -> list[Any]:
    """``queued`` in order, runs of ValueChanged joined into batches of at most ``limit`` values."""
    out: list[Any] = []
    run: list[ValueChanged] = []
    size = 0

    def flush() -> None:
        nonlocal run, size
        if len(run) == 1:
            out.append(run[0])
        elif run:
            out.append(ValueChanged(values=tuple(v for m in run for v in m.values), source=run[0].source))
        run, size = [], 0

    for msg in queued:
        if type(msg) is not ValueChanged:
            flush()
            out.append(msg)
            continue
        if run and size + len(msg.values) > limit:
            flush()
        run.append(msg)
        size += len(msg.values)
    flush()
    return out


class Registry:
    """Routes published messages to subscribers; looks services up by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[type, tuple[Subscription, ...]] = {}
        self._wild: tuple[Subscription, ...] = ()
        self._names: dict[str, pykka.ActorRef[Any]] = {}

    # ----------------------------------------------------------- subscribe
    def subscribe(
        self,
        msg_type: type,
        actor: pykka.ActorRef[Any],
        policy: Policy = LOSSLESS,
        filter: Filter | None = None,
        name: str = "",
    ) -> Subscription:
        sub = Subscription(msg_type, actor, policy, filter, name or str(actor))
        with self._lock:
            if msg_type is Message:
                self._wild = (*self._wild, sub)
            else:
                self._subs = {**self._subs, msg_type: (*self._subs.get(msg_type, ()), sub)}
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub.msg_type is Message:
                self._wild = tuple(s for s in self._wild if s is not sub)
            else:
                rest = tuple(s for s in self._subs.get(sub.msg_type, ()) if s is not sub)
                subs = dict(self._subs)
                if rest:
                    subs[sub.msg_type] = rest
                else:
                    subs.pop(sub.msg_type, None)
                self._subs = subs

    def unsubscribe_actor(self, actor: pykka.ActorRef[Any]) -> None:
        for sub in self.subscriptions():
            if sub.ref is actor:
                self.unsubscribe(sub)

    def subscriptions(self) -> list[Subscription]:
        subs = self._subs
        return [s for group in subs.values() for s in group] + list(self._wild)

    # ------------------------------------------------------------- publish
    def publish(self, msg: Any) -> int:
        """Deliver ``msg`` to every matching subscriber; returns how many."""
        subs = self._subs.get(type(msg), ())
        if self._wild:
            subs = subs + self._wild
        n = 0
        for sub in subs:
            flt = sub.filter
            if flt is None:
                sub.offer(msg)
                n += 1
                continue
            try:
                chosen = flt(msg)
            except Exception as err:  # a broken filter must not stop the publisher
                _log.warning("subscription filter failed", subscriber=sub.name, error=repr(err))
                continue
            if chosen is True:
                sub.offer(msg)
                n += 1
            elif chosen is not None and chosen is not False:
                sub.offer(chosen)
                n += 1
        return n

    def publish_many(self, msgs: Iterable[Any]) -> None:
        for msg in msgs:
            self.publish(msg)

    # --------------------------------------------------------------- names
    def register_name(self, name: str, actor: pykka.ActorRef[Any]) -> None:
        with self._lock:
            self._names = {**self._names, name: actor}

    def unregister_name(self, name: str) -> None:
        with self._lock:
            names = dict(self._names)
            names.pop(name, None)
            self._names = names

    def get(self, name: str) -> pykka.ActorRef[Any]:
        try:
            return self._names[name]
        except KeyError:
            raise NotFound(f"no service named {name!r} is running") from None

    def find(self, name: str) -> pykka.ActorRef[Any] | None:
        return self._names.get(name)

    def names(self) -> list[str]:
        return sorted(self._names)
