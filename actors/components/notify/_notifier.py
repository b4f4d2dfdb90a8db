"""The notifier as a component: ``notify``, the only writer of ``notifications.db``.

It subscribes (lossless) to the alarm engine's events. A raise that asks
to be notified is routed by the :class:`~bms.notify.Dispatcher` with what
the ``nodes`` service says of its point (name, unit, tags and the nodes
above it); acknowledging, clearing to normal or shelving an alarm stops its
escalation; an unshelve that leaves it unacknowledged annunciates it again.
Each notice is a delivery: recorded in the log, handed to its recipient's
:class:`~actors.components.notify._courier.Courier` (apprise, on a thread
of its own), its outcome told back here, retried with backoff on the
ticker. A recipient whose deliveries keep failing, or whose URL apprise
cannot use, makes the component Degraded, naming it.

The dispatcher and the deliveries outlive a restart of the actor (they are
built once); deliveries a stop interrupted are read back from the log at
the next start and tried again.
"""

from __future__ import annotations

import concurrent.futures
import difflib
from typing import Any
from zoneinfo import ZoneInfo

from actors._base import BmsActor, handles
from actors._later import Later
from actors._supervisor import ChildSpec
from actors.components.notify._courier import Courier
from actors.platform import Platform
from bms.alarms import AlarmAcknowledged, AlarmCleared, AlarmRaised, AlarmShelved, AlarmUnshelved, AlarmView, GetAlarm
from bms.errors import ConfigError, NotFound
from bms.messages import GetNode, Tick
from bms.model import Node
from bms.notify import (
    FAILED,
    SENT,
    AlarmFacts,
    Deliveries,
    Delivery,
    DeliveryEnded,
    Dispatcher,
    ListNotifications,
    Notice,
    NotificationLog,
    NotificationRecord,
    NotifySection,
    SendTestNotification,
    test_body,
    test_title,
)
from bms.supervision import Health, RestartPolicy

NAME = "notify"
PRUNE_EVERY = 86_400.0
ASK_TIMEOUT = 5.0
MAX_DEPTH = 32  # nodes above a point, at most (a cycle in a broken model ends here)


class Notifier(BmsActor):
    def __init__(self, name: str, ctx: Any, section: NotifySection | None = None, timezone: str = "UTC") -> None:
        super().__init__(name, ctx)
        self.section = section or NotifySection()
        self.tz = ZoneInfo(self.section.timezone or timezone)
        self.dispatcher = Dispatcher(self.section, self.tz)  # outlive restarts: escalations and digests go on
        self.deliveries = Deliveries(self.section.retry)
        self.known: dict[str, AlarmFacts] = {}  # alarm id -> its last raise, for an unshelve
        self.couriers: dict[str, Courier] = {}
        self.unusable: dict[str, str] = {}  # recipient -> why apprise cannot use its URL
        self.answers: dict[str, concurrent.futures.Future[NotificationRecord]] = {}  # test delivery id -> its ask
        self.store: NotificationLog | None = None
        self._resumed = False

    # ------------------------------------------------------------- lifecycle
    def setup(self) -> None:
        self.store = NotificationLog(self.ctx.data_dir / "notifications.db")
        ref = self.actor_ref
        for r in self.section.recipients:
            if r.name in self.couriers or r.name in self.unusable:
                continue
            try:
                self.couriers[r.name] = Courier(r, lambda did, err: ref.tell(DeliveryEnded(delivery_id=did, error=err)))
            except ValueError as err:
                self.unusable[r.name] = str(err)
                self.log.error("recipient cannot be used", recipient=r.name, channel=r.scheme, error=str(err))
        if not self._resumed:
            self._resumed = True
            for d in self.store.unfinished():
                self.deliveries.resume(d)
        for event in (AlarmRaised, AlarmAcknowledged, AlarmCleared, AlarmShelved, AlarmUnshelved):
            self.subscribe(event)
        self.ctx.ticker.every(self.section.tick, ref, "notify")
        self.ctx.ticker.every(PRUNE_EVERY, ref, "prune", first_in=60.0)
        self._health()
        self.log.info("notifier ready", recipients=len(self.couriers), rules=len(self.section.rules),
                      resumed=len(self.deliveries.open))

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.cancel.is_set() or self.actor_stopped.is_set():  # stopping for good, not a restart
            for courier in self.couriers.values():
                if not courier.close():
                    self.log.warning("a delivery was still running at stop", recipient=courier.recipient.name)
            self.couriers.clear()
        if self.store is not None:
            self.store.close()
            self.store = None

    # ------------------------------------------------------------ the events
    @handles(AlarmRaised)
    def on_raised(self, event: AlarmRaised) -> None:
        facts = self._facts(event)
        self.known[event.alarm_id] = facts
        if event.notify:
            self._send(self.dispatcher.raised(facts, self.clock.now(), flood=event.flood))

    @handles(AlarmUnshelved)
    def on_unshelved(self, event: AlarmUnshelved) -> None:
        if event.state != "unacknowledged":
            return
        facts = self.known.get(event.alarm_id) or self._facts_of_view(event.alarm_id)
        if facts is not None:
            self._send(self.dispatcher.raised(facts, self.clock.now()))

    @handles(AlarmAcknowledged, AlarmShelved)
    def on_settled(self, event: AlarmAcknowledged | AlarmShelved) -> None:
        if self.dispatcher.settled(event.alarm_id):
            self.log.info("escalation stopped", alarm=event.alarm_id, by=type(event).__name__)

    @handles(AlarmCleared)
    def on_cleared(self, event: AlarmCleared) -> None:
        if event.state == "normal" and self.dispatcher.settled(event.alarm_id):
            self.log.info("escalation stopped", alarm=event.alarm_id, by="AlarmCleared")

    @handles(DeliveryEnded)
    def on_delivery_ended(self, ended: DeliveryEnded) -> None:
        d = self.deliveries.outcome(ended.delivery_id, ended.error, self.clock.now())
        if d is None:
            return
        self._write(d)
        if d.status == SENT:
            self.log.info("notification sent", recipient=d.notice.recipient, kind=d.notice.kind,
                          alarms=list(d.notice.alarm_ids), attempts=d.attempts)
        elif d.status == FAILED:
            self.log.error("notification failed", recipient=d.notice.recipient, kind=d.notice.kind,
                           alarms=list(d.notice.alarm_ids), attempts=d.attempts, error=d.error)
        else:
            self.log.warning("notification will be retried", recipient=d.notice.recipient, attempts=d.attempts,
                             next_in=round((d.next_attempt or 0.0) - d.updated, 1), error=d.error)
        answer = self.answers.pop(d.id, None)
        if answer is not None:
            answer.set_result(_record(d))
        self._health()

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        now = self.clock.now()
        if tick.timer == "notify":
            self._send(self.dispatcher.due(now))
            for d in self.deliveries.due(now):
                self._write(d)
                self._post(d)
        elif tick.timer == "prune" and self.store is not None:
            pruned = self.store.prune(now - self.section.keep_days * 86_400.0)
            if pruned:
                self.log.info("notifications pruned", rows=pruned)

    # ------------------------------------------------------ queries, command
    @handles(ListNotifications)
    def list_notifications(self, query: ListNotifications) -> list[NotificationRecord]:
        assert self.store is not None
        return self.store.records(query.since, query.until, query.alarm_id, query.limit)

    @handles(SendTestNotification)
    def send_test(self, command: SendTestNotification) -> Later:
        recipient = self.section.recipient(command.recipient)
        if recipient is None:
            names = [r.name for r in self.section.recipients]
            close = difflib.get_close_matches(command.recipient, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = f"; recipients: {', '.join(names)}" if names and not close else ""
            raise NotFound(f"no recipient named {command.recipient!r} in [notify]{hint}{known}")
        if recipient.name in self.unusable:
            raise ConfigError(f"recipient {recipient.name!r}: {self.unusable[recipient.name]}")
        now = self.clock.now()
        notice = Notice(recipient=recipient.name, kind="test", title=test_title(),
                        body=test_body(recipient.name, now, self.tz))
        d = self.deliveries.start(notice, recipient.scheme, now, retries=False)
        answer: concurrent.futures.Future[NotificationRecord] = concurrent.futures.Future()
        self.answers[d.id] = answer
        self._write(d)
        self._post(d)
        return Later(answer, f"the test notification to {recipient.name!r}")

    # ---------------------------------------------------------------- sending
    def _send(self, notices: list[Notice]) -> None:
        now = self.clock.now()
        for notice in notices:
            recipient = self.section.recipient(notice.recipient)
            scheme = recipient.scheme if recipient is not None else ""
            d = self.deliveries.start(notice, scheme, now, retries=notice.recipient not in self.unusable)
            self._write(d)
            self._post(d)

    def _post(self, d: Delivery) -> None:
        courier = self.couriers.get(d.notice.recipient)
        if courier is None:
            why = self.unusable.get(d.notice.recipient, f"no recipient named {d.notice.recipient!r} in [notify]")
            self.actor_ref.tell(DeliveryEnded(delivery_id=d.id, error=why))
            return
        courier.post(d.id, d.notice.title, d.notice.body, d.notice.severity)

    def _write(self, d: Delivery) -> None:
        assert self.store is not None
        self.store.write(d)

    def _health(self) -> None:
        problems = [f"recipient {name!r} cannot be used: {why}" for name, why in self.unusable.items()]
        problems += [f"recipient {name!r} keeps failing: {why}" for name, why in self.deliveries.failing().items()]
        if problems:
            self.ctx.supervisor.report(self.name, Health.DEGRADED, "; ".join(problems))
        else:
            self.ctx.supervisor.report(self.name, Health.HEALTHY, f"{len(self.couriers)} recipient(s)")

    # ---------------------------------------------------------- the point
    def _facts(self, e: AlarmRaised) -> AlarmFacts:
        name, unit, tags, above = self._point(e.point_id)
        return AlarmFacts(alarm_id=e.alarm_id, point_id=e.point_id, severity=e.severity, text=e.text, ts=e.ts,
                          alarm_class=e.alarm_class, value=e.value, point_name=name, unit=unit,
                          tags=frozenset(tags), ancestors=frozenset(above), chattering=e.chattering, source=e.source)

    def _facts_of_view(self, alarm_id: str) -> AlarmFacts | None:
        """An alarm raised before this notifier started: the alarm engine's view of it."""
        alarms = self.ctx.registry.find("alarms")
        if alarms is None:
            self.log.warning("unshelved alarm not annunciated: unknown here and no alarm engine", alarm=alarm_id)
            return None
        try:
            view: AlarmView = alarms.ask(GetAlarm(alarm_id=alarm_id), timeout=ASK_TIMEOUT)  # type: ignore[assignment]
        except Exception as err:
            self.log.warning("unshelved alarm not annunciated", alarm=alarm_id, error=str(err) or repr(err))
            return None
        return self._facts(AlarmRaised(alarm_id=view.alarm_id, point_id=view.point_id, severity=view.severity,
                                       alarm_class=view.alarm_class, text=view.text, value=view.value,
                                       ts=view.raised_at or self.clock.now(), source=view.source))

    def _point(self, point_id: str) -> tuple[str, str, set[str], list[str]]:
        """The point's name, unit, its tags and those of the nodes above it, and their ids (the model's word)."""
        nodes = self.ctx.registry.find("nodes")
        if nodes is None:
            return point_id, "", set(), []
        try:
            node: Node = nodes.ask(GetNode(node_id=point_id), timeout=ASK_TIMEOUT)  # type: ignore[assignment]
            tags, above = set(node.tags), list[str]()
            parent = node.parent
            while parent is not None and len(above) < MAX_DEPTH and parent not in above:
                up: Node = nodes.ask(GetNode(node_id=parent), timeout=ASK_TIMEOUT)  # type: ignore[assignment]
                above.append(up.id)
                tags |= set(up.tags)
                parent = up.parent
        except Exception as err:  # an alarm of a point the model lacks is still annunciated, routed on what it says
            self.log.warning("point not in the model; routed without its tags", point=point_id,
                             error=str(err) or repr(err))
            return point_id, "", set(), []
        return node.name, str(node.tag_values.get("unit", "")), tags, above


def _record(d: Delivery) -> NotificationRecord:
    n = d.notice
    return NotificationRecord(id=d.id, created=d.created, updated=d.updated, recipient=n.recipient, channel=d.channel,
                              kind=n.kind, status=d.status, attempts=d.attempts, alarm_ids=n.alarm_ids, level=n.level,
                              severity=n.severity, title=n.title, body=n.body, error=d.error,
                              next_attempt=d.next_attempt)


def notify_component(platform: Platform) -> list[ChildSpec]:
    section: NotifySection = platform.section(NAME)
    timezone = platform.site.scenario.site.timezone
    return [ChildSpec(NAME, Notifier, kwargs={"section": section, "timezone": timezone}, policy=RestartPolicy())]


__all__ = ["NAME", "Notifier", "notify_component"]
