"""The supervised actor: a Pykka ThreadingActor that survives its own failures.

Pykka stops an actor whose ``tell`` handler raises and silently drops its
queued tells. ``BmsActor`` runs its own receive loop instead:

* a handler that raises a :class:`~bms.errors.BmsError` (bad input, a refused
  write, a conflict, another service unavailable) is a refusal, not a
  failure: an ``ask`` gets the error back, a ``tell`` logs it, and the actor
  goes on;
* a :class:`~bms.errors.StoreError` (the actor's own database cannot be
  read or written) and any other exception (including bacpypes3's
  BaseException-derived PDUs) is a failure: the caller of an ``ask`` gets the exception; the supervisor is
  told (component name, message type, error) and decides from the actor's
  restart policy. On *restart* the actor waits the backoff on its clock,
  runs ``teardown()`` then ``setup()`` again (state rebuilt from its store)
  and carries on with the messages queued behind the failing one: nothing
  is dropped. On *stop* (intensity exceeded) it is marked Down and stops,
  logging how many queued messages it could not process; on *escalate* the
  supervisor's escalation handler runs as well.

Subclasses implement ``setup()`` / ``teardown()`` (not on_start/on_stop) and
handlers marked with ``@handles(MessageType)``. A handler whose answer waits
on I/O returns :class:`~actors._later.Later` (the caller is answered when the
I/O ends; the actor goes on meanwhile). ``gave_up()`` runs once when the
supervisor has stopped the actor for good, after ``teardown()``: a bridge
flags its devices' points there.

The inbox is a :class:`queue.SimpleQueue` (C) rather than pykka's default
:class:`queue.Queue`, whose Python-level Condition costs twice the CPU per
wake-up of an idle actor (15 against 7.5 us measured on the edge box); pykka
needs only ``put``, ``get`` and ``empty``, and ``qsize`` gives the depth.
"""

from __future__ import annotations

import queue
import sys
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pykka

from actors._later import Later
from actors._registry import LOSSLESS, Drain, Filter, Policy, Subscription
from bms.errors import BmsError, ConfigError, StoreError
from bms.logs import get_logger
from bms.messages import Ping
from bms.supervision import Health

if TYPE_CHECKING:
    from actors._context import Context

F = TypeVar("F", bound=Callable[..., Any])

_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit)


def is_refusal(err: BaseException) -> bool:
    """A refusal leaves the actor as it was; anything else (a store that fails included) is a failure."""
    return isinstance(err, BmsError) and not isinstance(err, StoreError)


def handles(*types: type) -> Callable[[F], F]:
    """Mark a method as the handler of the given message types."""

    def mark(fn: F) -> F:
        fn._bms_handles = types  # type: ignore[attr-defined]
        return fn

    return mark


class BmsActor(pykka.ThreadingActor):
    """Base of every store, bridge and engine."""

    _dispatch: ClassVar[dict[type, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: dict[type, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, fn in vars(klass).items():
                for t in getattr(fn, "_bms_handles", ()):
                    table[t] = attr
        cls._dispatch = table

    @staticmethod
    def _create_actor_inbox() -> queue.SimpleQueue[Any]:  # pykka's hook for the inbox type
        return queue.SimpleQueue()

    def __init__(self, name: str, ctx: Context) -> None:
        super().__init__()
        self.name = name
        self.ctx = ctx
        self.log = get_logger(name)
        self.cancel: threading.Event = ctx.supervisor.cancel_event(name)  # set when stopping
        self._subscriptions: dict[tuple[type, str], Subscription] = {}
        self._stranded = 0  # messages drained from a subscription and not yet handled

    # ------------------------------------------------------------ overridables
    def setup(self) -> None:
        """Build the actor's state (from its store). Runs again on restart."""

    def teardown(self) -> None:
        """Release what setup() took. Runs on stop and before a restart."""

    def gave_up(self, reason: str) -> None:
        """The supervisor stopped this actor for good (``reason``: the failure); runs after ``teardown()``."""

    # ------------------------------------------------------------------ helpers
    @property
    def clock(self) -> Any:
        return self.ctx.clock

    def publish(self, msg: Any) -> int:
        return self.ctx.registry.publish(msg)

    def subscribe(self, msg_type: type, policy: Policy = LOSSLESS, filter: Filter | None = None,
                  name: str = "") -> Subscription:
        """Subscribe this actor to ``msg_type``; the subscription outlives restarts.

        Call it from ``setup()``: on a restart the same subscription is kept
        (only its filter is replaced), so nothing published while the actor
        restarts is missed. It ends when the actor stops for good.
        """
        key = (msg_type, name)
        found = self._subscriptions.get(key)
        if found is not None:
            found.filter = filter
            return found
        made = self.ctx.registry.subscribe(msg_type, self.actor_ref, policy, filter, name or self.name)
        self._subscriptions[key] = made
        return made

    def _unsubscribe_all(self) -> None:
        for made in self._subscriptions.values():
            self.ctx.registry.unsubscribe(made)
        self._subscriptions.clear()

    # ------------------------------------------------------------ pykka hooks
    def on_start(self) -> None:  # pykka calls it via _actor_loop_setup
        self.setup()

    def on_stop(self) -> None:
        self._unsubscribe_all()
        try:
            self.teardown()
        except Exception as err:
            self.log.warning("teardown failed", error=repr(err))

    def on_receive(self, message: Any) -> Any:
        if type(message) is Drain:
            return self._drain(message)
        if type(message) is Ping:
            return self.name
        attr = self._dispatch.get(type(message))
        if attr is None:
            for klass in type(message).__mro__[1:]:
                attr = self._dispatch.get(klass)
                if attr is not None:
                    break
            else:
                self.log.warning("unexpected message", message_type=type(message).__name__)
                return None
        return getattr(self, attr)(message)

    def _drain(self, note: Drain) -> None:
        taken = note.subscription.take()
        for i, msg in enumerate(taken):
            try:
                outcome = self.on_receive(msg)
                if outcome is not None and type(outcome) is Later:
                    outcome.settle(None, self.log)
            except _FATAL:
                raise
            except BaseException as err:
                if is_refusal(err):
                    self.log.warning("message refused", message_type=type(msg).__name__, error=str(err))
                    continue
                self._stranded = len(taken) - i - 1  # drained but not handled: lost if the actor gives up
                carried_on = self._failed(msg, err, retry=True)
                self._stranded = 0
                if not carried_on:
                    return

    # ------------------------------------------------------------- the loop
    def _actor_loop_setup(self) -> None:
        try:
            self.on_start()
        except _FATAL:
            raise
        except ConfigError as err:  # a restart cannot mend a configuration: Down at once, one line
            self.log.error("cannot start", error=str(err))
            self.ctx.supervisor.child_failed(self.name, "setup", err)
            self._give_up("stop", err)
        except BaseException as err:
            self._failed(None, err)

    def _actor_loop_running(self) -> None:
        while not self.actor_stopped.is_set():
            envelope = self.actor_inbox.get()
            reply = envelope.reply_to
            try:
                response = self._handle_receive(envelope.message)
            except _FATAL:
                raise
            except BaseException as err:
                if reply is not None:
                    reply.set_exception(exc_info=sys.exc_info())
                if not is_refusal(err):
                    # an event is retried after the restart; an ask's caller has its answer (the error)
                    self._failed(envelope.message, err, retry=reply is None)
                elif reply is None:
                    self.log.warning(
                        "message refused", message_type=type(envelope.message).__name__, error=str(err)
                    )
            else:
                if response is not None and type(response) is Later:
                    response.settle(reply, self.log)  # answered when its I/O ends; the actor goes on
                elif reply is not None:
                    reply.set(response)

    def _failed(self, message: Any, err: BaseException, retry: bool = False) -> bool:
        """Handle a failure per policy. True if the actor carries on.

        With ``retry`` the event that failed is handled once more after the
        restart (a store that could not write gets the same batch again). If
        it fails again on the rebuilt state it is dropped and counted as lost
        (a poison message does not restart the actor for ever); the second
        failure counts toward the restart intensity, so a store that stays
        broken ends Down with its reason.
        """
        sup = self.ctx.supervisor
        msg_type = "setup" if message is None else type(message).__name__
        while True:
            self.log.error(
                "actor failed",
                message_type=msg_type,
                error=repr(err),
                where="".join(traceback.format_tb(err.__traceback__)[-2:]).strip(),
            )
            decision = sup.child_failed(self.name, msg_type, err)
            lost = 1 if retry and message is not None else 0
            if decision.action != "restart":
                self._give_up(decision.action, err, lost)
                return False
            if decision.delay > 0 and not self.clock.wait(decision.delay, self.cancel):
                self._give_up("stop", err, lost)
                return False
            if self.cancel.is_set():
                self._give_up("stop", err, lost)
                return False
            try:
                self.teardown()
            except Exception as td_err:
                self.log.warning("teardown failed during restart", error=repr(td_err))
            try:
                self.setup()
            except _FATAL:
                raise
            except BaseException as setup_err:
                err, msg_type = setup_err, "setup"
                continue
            sup.child_restarted(self.name, decision)
            if not retry or message is None:
                return True
            return self._handle_again(message, msg_type)

    def _handle_again(self, message: Any, msg_type: str) -> bool:
        """Handle the failed event once more on the rebuilt state; a second failure drops it, counted."""
        try:
            self._handle_receive(message)
        except _FATAL:
            raise
        except BaseException as again:
            if is_refusal(again):
                self.log.warning("message refused", message_type=msg_type, error=str(again))
                return True
            self.log.error("message dropped: it failed again after the restart", message_type=msg_type,
                           error=repr(again))
            decision = self.ctx.supervisor.child_failed(self.name, msg_type, again)
            if decision.action != "restart":
                self._give_up(decision.action, again, 1)
                return False
            self.ctx.health.lost(self.name, 1)
            self.ctx.supervisor.report(self.name, Health.HEALTHY,
                                       f"a {msg_type} failed again after a restart and was dropped: {again!r}")
            return True
        self.log.info("message handled after restart", message_type=msg_type)
        return True

    def _give_up(self, action: str, err: BaseException, failed: int = 0) -> None:
        buffered = sum(sub.pending() for sub in self._subscriptions.values())
        queued = self.actor_inbox.qsize() + self._stranded + buffered + failed  # type: ignore[attr-defined]
        self.log.error("actor stopped by its supervisor", action=action, queued_messages_lost=queued)
        if queued:
            self.ctx.health.lost(self.name, queued)
        pykka.ActorRegistry.unregister(self.actor_ref)
        self.actor_stopped.set()
        self._unsubscribe_all()
        try:
            self.teardown()
        except Exception:
            pass
        self.ctx.supervisor.child_gave_up(self.name, action, err, queued)
        try:
            self.gave_up(f"{type(err).__name__}: {err}")
        except Exception as hook_err:
            self.log.warning("gave_up failed", error=repr(hook_err))
