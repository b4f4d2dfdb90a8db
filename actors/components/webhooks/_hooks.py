"""The webhooks component's actor: ``webhooks``, the only writer of ``webhooks.db``.

It subscribes (lossless) to alarms, device down/up, FDD faults and health
changes; each event an endpoint's filter wants becomes a delivery: recorded
``pending`` with its body, handed to the endpoint's
:class:`~actors.components.webhooks._poster.Poster`, its outcome told back
here, retried with backoff on the ticker (the injected clock), ``failed``
after the last attempt. An endpoint whose deliveries keep failing makes the
component Degraded, naming it.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from actors.components.webhooks._poster import Poster
from bms.export import (
    FAILED,
    PENDING,
    SENT,
    WEBHOOK_SOURCES,
    DeliveryLog,
    ListWebhookDeliveries,
    WebhookDelivery,
    WebhooksSection,
    encode_event,
    kind_of,
    wants,
    webhook_event,
)
from bms.messages import HealthChanged, Tick
from bms.supervision import Health, RestartPolicy

NAME = "webhooks"
PRUNE_EVERY = 86_400.0


class DeliveryOutcome(msgspec.Struct, frozen=True):
    delivery_id: str
    http_status: int
    error: str


class Webhooks(BmsActor):
    def __init__(self, name: str, ctx: Any, section: WebhooksSection | None = None, site: str = "") -> None:
        super().__init__(name, ctx)
        self.section = section or WebhooksSection()
        self.site = site
        self.endpoints = {e.name: e for e in self.section.endpoints if e.enabled}
        self.posters: dict[str, Poster] = {}
        self.open: dict[str, WebhookDelivery] = {}  # pending deliveries by id
        self.failing: dict[str, str] = {}  # endpoint -> its last error while it fails
        self.log_store: DeliveryLog | None = None

    def setup(self) -> None:
        self.log_store = DeliveryLog(self.ctx.data_dir / "webhooks.db")
        ref = self.actor_ref
        for e in self.endpoints.values():
            if e.name not in self.posters:
                self.posters[e.name] = Poster(
                    e.name, e.url, e.secret, e.timeout, self.clock.now,
                    lambda did, status, err: ref.tell(DeliveryOutcome(did, status, err)))
        for d in self.log_store.pending():
            if d.id not in self.open and d.endpoint in self.posters:
                self.open[d.id] = d
                if d.next_attempt is None:
                    self._post(d)
        for event in WEBHOOK_SOURCES:
            self.subscribe(event)
        self.ctx.ticker.every(self.section.tick, ref, "webhooks")
        self.ctx.ticker.every(PRUNE_EVERY, ref, "prune", first_in=60.0)
        self._health()
        self.log.info("webhooks ready", endpoints=len(self.posters), resumed=len(self.open))

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.cancel.is_set() or self.actor_stopped.is_set():
            for poster in self.posters.values():
                if not poster.close():
                    self.log.warning("a delivery was still running at stop", endpoint=poster.name)
            self.posters.clear()
        if self.log_store is not None:
            self.log_store.close()
            self.log_store = None

    # ------------------------------------------------------------ the events
    @handles(*WEBHOOK_SOURCES)
    def on_event(self, msg: Any) -> None:
        if isinstance(msg, HealthChanged) and msg.component == self.name:
            return  # our own health would echo itself
        kind = kind_of(msg)
        targets = [e for e in self.endpoints.values() if wants(e.events, kind)]
        if not targets:
            return
        assert self.log_store is not None
        now = self.clock.now()
        event_id = uuid.uuid4().hex
        body = encode_event(webhook_event(msg, event_id, self.site))
        for e in targets:
            d = WebhookDelivery(id=f"{event_id}-{e.name}", endpoint=e.name, kind=kind, created=now, updated=now,
                                status=PENDING)
            self.log_store.add(d, body)
            self.open[d.id] = d
            self.posters[e.name].post(d.id, kind, body)

    @handles(DeliveryOutcome)
    def on_outcome(self, outcome: DeliveryOutcome) -> None:
        d = self.open.get(outcome.delivery_id)
        if d is None:
            return
        now = self.clock.now()
        attempts = d.attempts + 1
        if not outcome.error:
            d = msgspec.structs.replace(d, updated=now, status=SENT, attempts=attempts, error="",
                                        http_status=outcome.http_status, next_attempt=None)
            self.failing.pop(d.endpoint, None)
            self.log.info("webhook sent", endpoint=d.endpoint, kind=d.kind, attempts=attempts)
        elif attempts >= self.section.max_attempts:
            d = msgspec.structs.replace(d, updated=now, status=FAILED, attempts=attempts, error=outcome.error,
                                        http_status=outcome.http_status, next_attempt=None)
            self.failing[d.endpoint] = outcome.error
            self.log.error("webhook failed", endpoint=d.endpoint, kind=d.kind, attempts=attempts, error=d.error)
        else:
            delay = self.section.retry.delay(attempts)
            d = msgspec.structs.replace(d, updated=now, attempts=attempts, error=outcome.error,
                                        http_status=outcome.http_status, next_attempt=now + delay)
            self.failing[d.endpoint] = outcome.error
            self.log.warning("webhook will be retried", endpoint=d.endpoint, attempts=attempts, next_in=delay,
                             error=d.error)
        assert self.log_store is not None
        self.log_store.update(d)
        if d.status == PENDING:
            self.open[d.id] = d
        else:
            self.open.pop(d.id, None)
        self._health()

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        now = self.clock.now()
        if tick.timer == "webhooks":
            for d in list(self.open.values()):
                if d.next_attempt is not None and d.next_attempt <= now:
                    d = msgspec.structs.replace(d, next_attempt=None)
                    self.open[d.id] = d
                    self._post(d)
        elif tick.timer == "prune" and self.log_store is not None:
            self.log_store.prune(now - self.section.keep_days * 86_400.0)

    @handles(ListWebhookDeliveries)
    def list_deliveries(self, query: ListWebhookDeliveries) -> list[WebhookDelivery]:
        assert self.log_store is not None
        return self.log_store.records(query.since, query.endpoint, query.limit)

    def _post(self, d: WebhookDelivery) -> None:
        assert self.log_store is not None
        self.posters[d.endpoint].post(d.id, d.kind, self.log_store.body(d.id))

    def _health(self) -> None:
        if self.failing:
            why = "; ".join(f"endpoint {n!r} failing: {e}" for n, e in sorted(self.failing.items()))
            self.ctx.supervisor.report(self.name, Health.DEGRADED, why)
        else:
            self.ctx.supervisor.report(self.name, Health.HEALTHY, f"{len(self.posters)} endpoint(s)")


def webhooks_component(platform: Any) -> list[ChildSpec]:
    section: WebhooksSection = platform.section(NAME)
    return [ChildSpec(NAME, Webhooks, kwargs={"section": section, "site": platform.site.scenario.site.id},
                      policy=RestartPolicy())]
