"""The root supervisor: starts the tree in order, decides restarts, stops in reverse.

Decisions run in the failing actor's own thread (see ``actors._base``) with
this object's lock held only for the bookkeeping, so a failure never waits
on another actor. ``escalate`` calls the escalation handler (the daemon
stops the platform with a non-zero exit code).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pykka

from bms.errors import DaemonError
from bms.logs import get_logger
from bms.messages import ActorFailed, ActorRestarted, HealthChanged, Ping
from bms.supervision import Decision, Health, RestartPolicy, RestartTracker

if TYPE_CHECKING:
    from actors._base import BmsActor
    from actors._context import Context


@dataclass
class ChildSpec:
    """How to start one component and what to do when it fails."""

    name: str
    actor: type[BmsActor]
    kwargs: dict[str, Any] = field(default_factory=dict)
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    critical: bool = False  # a start failure stops the platform
    start_timeout: float = 30.0


@dataclass
class _Child:
    spec: ChildSpec
    tracker: RestartTracker
    ref: pykka.ActorRef[Any] | None = None
    cancel: threading.Event | None = None


class Supervisor:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.log = get_logger("supervisor")
        self._lock = threading.Lock()
        self._children: dict[str, _Child] = {}
        self._order: list[str] = []
        self._cancels: dict[str, threading.Event] = {}
        self.escalated = threading.Event()
        self.on_escalate: Callable[[str, BaseException], None] | None = None

    # ----------------------------------------------------------------- start
    def start_child(self, spec: ChildSpec) -> pykka.ActorRef[Any] | None:
        """Start a component and wait until it is up. None if it is Down."""
        ctx = self.ctx
        if spec.name in self._children and self._children[spec.name].ref is not None:
            raise DaemonError(f"component {spec.name!r} is already running")
        child = _Child(spec, RestartTracker(spec.policy))
        with self._lock:
            self._children[spec.name] = child
            if spec.name not in self._order:
                self._order.append(spec.name)
        ctx.health.register(spec.name, ctx.clock.now())
        child.cancel = self.cancel_event(spec.name)
        child.cancel.clear()
        ref = spec.actor.start(name=spec.name, ctx=ctx, **spec.kwargs)
        child.ref = ref
        ctx.health.register(spec.name, ctx.clock.now(), depth=lambda: self._depth(ref))
        try:
            ref.ask(Ping(), timeout=spec.start_timeout)
        except pykka.ActorDeadError:
            child.ref = None
            if spec.critical:
                raise DaemonError(f"{spec.name} could not start: {self._last_error(spec.name)}") from None
            return None
        except pykka.Timeout:
            ref.stop(block=False)
            child.ref = None
            self._set(spec.name, Health.DOWN, f"did not start within {spec.start_timeout:g} s")
            if spec.critical:
                raise DaemonError(f"{spec.name} did not start within {spec.start_timeout:g} s") from None
            return None
        ctx.registry.register_name(spec.name, ref)
        if ctx.health.get(spec.name) is not None and ctx.health.get(spec.name).state == Health.UNKNOWN.value:  # type: ignore[union-attr]
            self._set(spec.name, Health.HEALTHY, "started")
        self.log.info("component started", component=spec.name)
        return ref

    def _depth(self, ref: pykka.ActorRef[Any]) -> int:
        """Messages waiting for ``ref``: its mailbox and what its subscriptions buffer."""
        inbox: int = ref.actor_inbox.qsize()  # type: ignore[attr-defined]  # a queue.SimpleQueue
        return inbox + sum(s.pending() for s in self.ctx.registry.subscriptions() if s.ref is ref)

    def _last_error(self, name: str) -> str:
        st = self.ctx.health.get(name)
        return st.last_error if st else "unknown error"

    def cancel_event(self, name: str) -> threading.Event:
        """The event that interrupts ``name``'s backoff waits when it is stopped."""
        with self._lock:
            return self._cancels.setdefault(name, threading.Event())

    # ------------------------------------------------------------ decisions
    def child_failed(self, name: str, msg_type: str, err: BaseException) -> Decision:
        now = self.ctx.clock.now()
        with self._lock:
            child = self._children.get(name)
            tracker = child.tracker if child else RestartTracker(RestartPolicy())
            if child is None:  # an actor started outside the tree: default policy
                self._children[name] = _Child(ChildSpec(name, type(None)), tracker)  # type: ignore[arg-type]
            decision = tracker.on_failure(now)
        error = f"{type(err).__name__}: {err}"
        self.ctx.health.failed(name, error)
        self.ctx.registry.publish(
            ActorFailed(component=name, message_type=msg_type, error=error, restarts=tracker.total_restarts, ts=now)
        )
        if decision.action == "restart":
            self._set(name, Health.DEGRADED, f"restarting after {error}")
        return decision

    def child_restarted(self, name: str, decision: Decision) -> None:
        now = self.ctx.clock.now()
        with self._lock:
            child = self._children[name]
            child.tracker.restarted()
            total = child.tracker.total_restarts
        self.ctx.health.restarted(name)
        self.ctx.registry.publish(ActorRestarted(component=name, restarts=total, delay=decision.delay, ts=now))
        self._set(name, Health.HEALTHY, f"restarted ({total} so far)")
        self.log.info("component restarted", component=name, restarts=total, delay=decision.delay)

    def child_gave_up(self, name: str, action: str, err: BaseException, queued: int) -> None:
        reason = f"stopped after repeated failures: {type(err).__name__}: {err}"
        if queued:
            reason += f" ({queued} queued messages not processed)"
        self._set(name, Health.DOWN, reason)
        if action == "escalate":
            self.escalated.set()
            self.log.critical("failure escalated", component=name, error=repr(err))
            handler = self.on_escalate
            if handler is not None:
                handler(name, err)

    def report(self, name: str, state: Health, reason: str = "") -> None:
        """A component reports its own health (e.g. a bridge with devices down)."""
        self._set(name, state, reason)

    def _set(self, name: str, state: Health, reason: str) -> None:
        now = self.ctx.clock.now()
        if self.ctx.health.set(name, state, now, reason):
            self.ctx.registry.publish(HealthChanged(component=name, state=state.value, ts=now, reason=reason))

    # ------------------------------------------------------------------ stop
    def stop_all(self, timeout: float = 5.0) -> list[str]:
        """Stop the children in reverse start order. Returns names that leaked."""
        with self._lock:
            order = list(reversed(self._order))
        for name in order:
            child = self._children.get(name)
            if child is None or child.ref is None:
                continue
            if child.cancel is not None:
                child.cancel.set()
            try:
                child.ref.stop(block=True, timeout=timeout)
            except pykka.Timeout:
                self.log.error("component did not stop in time", component=name, timeout=timeout)
            except pykka.ActorDeadError:
                pass
            self.ctx.registry.unregister_name(name)
            self.ctx.registry.unsubscribe_actor(child.ref)
            child.ref = None
        self.ctx.ticker.stop()
        leaked = [str(ref) for ref in pykka.ActorRegistry.get_all() if ref.is_alive()]
        if leaked:
            self.log.error("actors still running after shutdown", actors=leaked)
        return leaked

    def children(self) -> list[str]:
        with self._lock:
            return list(self._order)

    def ref(self, name: str) -> pykka.ActorRef[Any] | None:
        child = self._children.get(name)
        return child.ref if child else None
