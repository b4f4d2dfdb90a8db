"""The energy engine as a component actor: ``energy`` keeps the site's interval data in energy.db.

On start it finds the meters (``[energy] meters``, else by tags) among the model's points, and
backfills each meter's intervals from history (the 15-minute rollups of its point, from where
energy.db stops, at most ``backfill_days`` back), vectorised, so a year takes well under a second.
Then it integrates the point store's ``ValueChanged`` batches as they come (a value holds until it
changes: a meter point that is not down, stale or in fault and has not changed for a minute is
integrated at its last value; one that is, is not, and the time is a gap), writes energy.db every
``tick``, and publishes the projected 15-minute demand of the demand meter to the virtual point
``demand_point`` (as the point store's own sample: logic programs read it like any point).
Queries (summary, demand, bill, baseline, savings, intervals) are answered by the plain
:class:`~bms.energy._book.EnergyBook`; the outdoor-air temperatures come from history.
"""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np

from actors._base import BmsActor, handles
from actors._registry import merged
from actors._supervisor import ChildSpec
from actors.platform import Platform
from bms.api import parse_time
from bms.config import Scenario
from bms.energy._book import DAY, EnergyBook, FloatArray
from bms.energy._meters import Meter, oat_point, resolve_meters
from bms.energy._settings import EnergySection
from bms.energy._store import EnergyStore
from bms.energy._tariff import Bill
from bms.energy.messages import (
    BaselineView,
    DemandView,
    EnergySummary,
    GetBaseline,
    GetBill,
    GetDemand,
    GetIntervals,
    GetSavings,
    GetSummary,
    ListMeters,
    MeterView,
    PeriodRow,
    SavingsView,
)
from bms.errors import ConfigError, StoreError
from bms.history import HistoryReader
from bms.messages import ListNodes, Sample, SampleBatch, StatusChanged, Tick, ValueChanged
from bms.model import Node
from bms.points import point_infos
from bms.supervision import Health, RestartPolicy

NAME = "energy"
ASK_TIMEOUT = 30.0
EMPTY: tuple[FloatArray, FloatArray] = (np.empty(0), np.empty(0))
UNHEALTHY = frozenset({"down", "stale", "fault"})


class EnergyEngine(BmsActor):
    def __init__(self, name: str, ctx: Any, settings: EnergySection | None = None,
                 scenario: Scenario | None = None) -> None:
        super().__init__(name, ctx)
        self.settings = settings or EnergySection()
        self.timezone = scenario.site.timezone if scenario is not None else "UTC"
        self.book: EnergyBook | None = None
        self.store: EnergyStore | None = None
        self.problems: list[str] = []
        self.demand_point = ""
        self.store_problem = ""
        self.backfilled = 0
        self.generating: tuple[str, float] | None = None  # (OAT point, first ts) while history writes them
        self.history_problem = ""
        self.unhealthy: set[str] = set()  # meter points flagged down, stale or in fault: their value does not hold

    # ------------------------------------------------------------ lifecycle
    def setup(self) -> None:
        problems = self.settings.problems()
        if problems:
            raise ConfigError(f"[energy] {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                              problems)
        nodes = cast(list[Node], self.ctx.registry.get("nodes").ask(ListNodes(), timeout=ASK_TIMEOUT))
        infos, _ = point_infos(nodes)
        meters, self.problems = resolve_meters(self.settings, infos)
        for problem in self.problems:
            self.log.error("meter left out", problem=problem)
        known = {i.point_id for i in infos}
        self.demand_point = self.settings.demand_point if self.settings.demand_point in known else ""
        oat = oat_point(self.settings, infos)
        self.store = EnergyStore(self.ctx.data_dir / "energy.db")
        self.book = EnergyBook(meters, self.store, ZoneInfo(self.timezone), self.settings, oat=self._oat,
                               oat_point=oat if oat in known else "", readings=self._readings)
        fresh = [m for m in meters if self.store.latest_interval(m.id) is None]
        self.history_problem = ""
        try:
            self.backfilled = sum(self._backfill(m) for m in meters)
        except StoreError as err:  # history unreadable: live data still counts; health says what is missing
            self.history_problem = f"no backfill from history: {err}"
            self.log.error("energy backfill failed", error=str(err))
        if self.settings.generate_days > 0 and fresh:
            self._generate(fresh)
        self.subscribe(ValueChanged, merged(100_000))
        self.subscribe(StatusChanged)
        self.ctx.ticker.every(self.settings.tick, self.actor_ref, "energy")
        self._report()
        self.log.info("energy loaded", meters=len(meters), backfilled_intervals=self.backfilled,
                      oat=self.book.oat_point, demand_point=self.demand_point)

    def teardown(self) -> None:
        self.ctx.ticker.cancel_actor(self.actor_ref)
        if self.book is not None:
            try:
                self.book.flush()
            except StoreError as err:
                self.log.error("energy.db cannot be written", error=str(err))
        if self.store is not None:
            self.store.close()
        self.store = None

    def _history(self) -> HistoryReader | None:
        path = self.ctx.data_dir / "history.db"
        if not path.is_file():
            return None
        return HistoryReader(path)

    def _oat(self, start: float, end: float) -> tuple[FloatArray, FloatArray]:
        """Hourly mean outdoor-air temperatures from history."""
        assert self.book is not None
        reader = self._history()
        if reader is None:
            return EMPTY
        with reader:
            series = reader.rollup(self.book.oat_point, start, end, tier="1h")
        return (np.array([b.ts for b in series.buckets], dtype=np.float64),
                np.array([b.avg for b in series.buckets], dtype=np.float64))

    def _readings(self, point: str, start: float, end: float) -> tuple[FloatArray, FloatArray]:
        """A point's raw recorded numbers from history (none once pruned)."""
        reader = self._history()
        if reader is None:
            return EMPTY
        with reader:
            samples = reader.raw(point, start, end)
        pairs = [(s.ts, float(s.value)) for s in samples if isinstance(s.value, int | float)
                 and not isinstance(s.value, bool)]
        if not pairs:
            return EMPTY
        arr = np.asarray(pairs, dtype=np.float64)
        return arr[:, 0].copy(), arr[:, 1].copy()

    def _backfill(self, meter: Meter) -> int:
        """The meter's intervals from history's 15-minute rollups, from where energy.db stops."""
        assert self.book is not None and self.store is not None
        now = self.clock.now()
        latest = self.store.latest_interval(meter.id)
        start = latest - 900.0 if latest is not None else now - self.settings.backfill_days * DAY
        end = now // 900.0 * 900.0
        if end - start < 1800.0:
            return 0
        reader = self._history()
        if reader is None:
            return 0
        with reader:
            buckets = reader.rollup(meter.point, start, end, tier="15m").buckets
        if meter.kind == "power":  # a bucket's mean power at its middle
            ts = np.array([b.ts + 450.0 for b in buckets], dtype=np.float64)
            values = np.array([b.avg for b in buckets], dtype=np.float64)
        else:  # a counter's last reading at the bucket's end
            ts = np.array([b.ts + 900.0 for b in buckets], dtype=np.float64)
            values = np.array([b.last for b in buckets], dtype=np.float64)
        return self.book.backfill(meter.id, ts, values)

    def _generate(self, fresh: list[Meter]) -> None:
        """First start of a demo: generated history for the main power meter and the OAT point, told to the
        history store in batches (it writes them on its own thread: the start is not held up); the meter's
        intervals are integrated from the same arrays at once."""
        from bms.sim._history import batches, generate

        assert self.book is not None
        meter = next((m for m in fresh if m.kind == "power" and m.parent is None), None)
        history = self.ctx.registry.find("history")
        oat = self.book.oat_point
        if meter is None or history is None or not oat or self.backfilled:
            return  # nothing to generate for, nobody to keep it, or history already had the meter
        now = self.clock.now()
        ts, temps, kw, _ = generate(self.settings.generate_days, now + 900.0, self.book.tz)  # up to the last quarter
        for batch in batches({oat: (ts, temps), meter.point: (ts, kw)}, size=20_000):
            history.tell(ValueChanged(values=tuple(batch), source=f"{self.name}:generated"))
        self.backfilled = self.book.backfill(meter.id, ts, kw)
        self.generating = (oat, float(ts[0]))
        self.log.info("generated history handed to history", days=self.settings.generate_days, meter=meter.id,
                      oat=oat, values=2 * len(ts))

    def _generated(self) -> bool:
        """Whether history holds the generated outdoor temperatures now (then baselines can use them)."""
        if self.generating is None:
            return True
        reader = self._history()
        if reader is None:
            return False
        with reader:
            first = next((p.first_ts for p in reader.points() if p.point_id == self.generating[0]), None)
        if first is not None and first <= self.generating[1]:
            self.generating = None
            self.log.info("generated history written")
            return True
        return False

    def _report(self) -> None:
        assert self.book is not None
        meters = len(self.book.meters)
        if self.generating is not None:
            self.ctx.supervisor.report(self.name, Health.HEALTHY,
                                       f"{meters} meter(s); writing {self.settings.generate_days:g} days of generated "
                                       "history in the background (baselines wait for it)")
        elif self.store_problem:
            self.ctx.supervisor.report(self.name, Health.DEGRADED, f"energy.db cannot be written: {self.store_problem}")
        elif self.problems or self.history_problem:
            self.ctx.supervisor.report(self.name, Health.DEGRADED,
                                       "; ".join([*self.problems, *filter(None, [self.history_problem])]))
        else:
            parts = [f"{meters} meter(s)"]
            if self.demand_point:
                parts.append(f"projected demand in {self.demand_point}")
            if not self.book.oat_point:
                parts.append("no outdoor-air point: no baselines")
            self.ctx.supervisor.report(self.name, Health.HEALTHY, ", ".join(parts))

    # ------------------------------------------------------------ inputs
    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        assert self.book is not None
        feed = self.book.feed
        watched = self.book.by_point
        for pv in batch.values:
            if pv.point_id in watched:
                self._flags(pv.point_id, pv.flags)
                feed(pv.point_id, pv.ts, pv.value)

    @handles(StatusChanged)
    def on_status(self, event: StatusChanged) -> None:
        assert self.book is not None
        if event.point_id in self.book.by_point:
            self._flags(event.point_id, event.flags)

    def _flags(self, point_id: str, flags: tuple[str, ...]) -> None:
        if UNHEALTHY.intersection(flags):
            self.unhealthy.add(point_id)
        else:
            self.unhealthy.discard(point_id)

    @handles(Tick)
    def on_tick(self, tick: Tick) -> None:
        assert self.book is not None
        self.book.hold(self.clock.now(), self.unhealthy)
        try:
            self.book.flush()
        except StoreError as err:
            if not self.store_problem:
                self.log.error("energy.db cannot be written", error=str(err))
            self.store_problem = str(err)
            self._report()
            return
        if self.store_problem:
            self.store_problem = ""
            self._report()
        if self.generating is not None and self._generated():
            self._report()
        self._publish_projection()

    def _publish_projection(self) -> None:
        assert self.book is not None
        if not self.demand_point or not self.book.meters:
            return
        now = self.clock.now()
        _window, kw = self.book.projection(now)
        if kw is not None:
            self.ctx.registry.publish(SampleBatch(source=self.name,
                                                  samples=(Sample(self.demand_point, round(kw, 3), now),)))

    # ------------------------------------------------------------ queries
    @property
    def _book(self) -> EnergyBook:
        assert self.book is not None
        return self.book

    @handles(ListMeters)
    def meters(self, query: ListMeters) -> list[MeterView]:
        return self._book.meter_views(self.clock.now())

    def _time(self, name: str, text: str, now: float) -> float | None:
        if not text:
            return None
        try:
            return parse_time(text, now, self._book.tz)
        except ConfigError as err:
            raise ConfigError(f"{name}: {err}") from None

    def _required(self, name: str, text: str, now: float) -> float:
        found = self._time(name, text, now)
        if found is None:
            raise ConfigError(f"{name}: a time is needed (e.g. 2026-01-01, -30d, ISO 8601)")
        return found

    @handles(GetSummary)
    def summary(self, query: GetSummary) -> EnergySummary:
        now = self.clock.now()
        return self._book.summary(query.period, query.node, self._time("start", query.start, now),
                                  self._time("end", query.end, now), now)

    @handles(GetDemand)
    def demand(self, query: GetDemand) -> DemandView:
        return self._book.demand(query.meter, query.month, self.clock.now())

    @handles(GetBill)
    def bill(self, query: GetBill) -> Bill:
        return self._book.bill(query.month, query.meter, self.clock.now())

    @handles(GetBaseline)
    def baseline(self, query: GetBaseline) -> BaselineView:
        now = self.clock.now()
        return self._book.baseline(self._required("from", query.start, now), self._required("to", query.end, now),
                                   query.meter, query.model, query.granularity, query.day_type)

    @handles(GetSavings)
    def savings(self, query: GetSavings) -> SavingsView:
        now = self.clock.now()
        since = self._required("since", query.since, now)
        until = self._time("until", query.until, now) or now
        end = self._time("baseline_end", query.baseline_end, now) or since
        start = self._time("baseline_start", query.baseline_start, now) or end - 365 * DAY
        return self._book.savings(since, until, (start, end), query.meter, query.model, query.confidence,
                                  query.day_type)

    @handles(GetIntervals)
    def intervals(self, query: GetIntervals) -> list[PeriodRow]:
        now = self.clock.now()
        return self._book.intervals(query.period, query.meter, self._time("start", query.start, now),
                                    self._time("end", query.end, now), now)


def energy_component(platform: Platform) -> list[ChildSpec]:
    section: EnergySection = platform.section(NAME)
    return [ChildSpec(NAME, EnergyEngine, kwargs={"settings": section, "scenario": platform.site.scenario},
                      policy=RestartPolicy())]


__all__ = ["NAME", "EnergyEngine", "energy_component"]
