"""EnergyBook: the energy figures of a site as one plain object (the ``energy`` actor owns one).

It holds the meters, an integrator per meter and energy.db: ``feed`` takes point values as they
arrive (kWh added to the pending intervals), ``flush`` writes them, ``backfill`` puts a meter's
history in at once (vectorised). The queries -- summary, demand, bill, baseline, savings, intervals --
read energy.db and the outdoor-air temperature (a callable: the history of the OAT point) and
compute with the functions of this package.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from bms.energy._baseline import Model, Periods, cvrmse_limit, fit, savings
from bms.energy._demand import QUARTER, projected_demand, sliding_demand, summarise
from bms.energy._integrate import (
    Contributions,
    CounterEvent,
    CounterIntegrator,
    PowerIntegrator,
    counter_intervals,
    power_intervals,
)
from bms.energy._intervals import Hierarchy, merge, rollup
from bms.energy._meters import Meter
from bms.energy._periods import PERIODS, Period, boundaries, label, month_span, period_end, period_start
from bms.energy._settings import EnergySection
from bms.energy._store import EnergyStore
from bms.energy._tariff import Bill, bill
from bms.energy.messages import (
    BaselineView,
    DayPoint,
    DemandView,
    EnergySummary,
    MeterTotal,
    MeterView,
    ModelView,
    PeriodRow,
    SavingsView,
)
from bms.errors import ConfigError, NotFound

FloatArray = npt.NDArray[np.float64]
OatSource = Callable[[float, float], tuple[FloatArray, FloatArray]]
ReadingSource = Callable[[str, float, float], tuple[FloatArray, FloatArray]]
DAY = 86400.0
MODELS = ("auto", "3PH", "3PC", "5P")
DAY_TYPES = ("all", "weekdays", "weekends")


def _when(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


class EnergyBook:
    def __init__(self, meters: list[Meter], store: EnergyStore, tz: ZoneInfo, section: EnergySection,
                 oat: OatSource | None = None, oat_point: str = "", readings: ReadingSource | None = None) -> None:
        self.meters = {m.id: m for m in meters}
        self.by_point: dict[str, list[Meter]] = {}
        for m in meters:
            self.by_point.setdefault(m.point, []).append(m)
        self.store = store
        self.tz = tz
        self.section = section
        self.oat = oat
        self.oat_point = oat_point
        self.readings = readings  # a point's recorded values (history), for demand in sliding windows
        self.hierarchy = Hierarchy({m.id: m.parent for m in meters})
        self.integrators: dict[str, PowerIntegrator | CounterIntegrator] = {}
        for m in meters:
            if m.kind == "power":
                self.integrators[m.id] = PowerIntegrator(section.max_gap)
            else:
                self.integrators[m.id] = CounterIntegrator(section.max_gap, m.rollover)
            self.integrators[m.id].last = store.last(m.id)
        self.pending: dict[str, Contributions] = {m.id: Contributions() for m in meters}

    # ------------------------------------------------------------ input
    def feed(self, point_id: str, ts: float, value: object) -> None:
        meters = self.by_point.get(point_id)
        if not meters or isinstance(value, bool) or not isinstance(value, int | float):
            return
        for m in meters:
            self.integrators[m.id].add(ts, float(value), self.pending[m.id])

    def hold(self, now: float, unhealthy: set[str] | frozenset[str] = frozenset(), after: float = 60.0) -> None:
        """Report-by-exception: a point's value holds until it changes. Each meter whose point is not down,
        stale or in fault (``unhealthy``) and has not changed for ``after`` seconds gets its last value
        again at ``now`` -- a steady load is integrated, not taken for a gap. A point that is unhealthy
        gets nothing: when it reports again, the time between is a gap."""
        for meter_id, integ in self.integrators.items():
            last = integ.last
            point = self.meters[meter_id].point
            if last is not None and now - last[0] >= after and point not in unhealthy:
                integ.add(now, last[1], self.pending[meter_id])

    def flush(self) -> None:
        """Write what was fed since the last flush (one transaction per meter with news)."""
        for meter_id, contrib in self.pending.items():
            last = self.integrators[meter_id].last
            if contrib.kwh or contrib.gaps or contrib.events:
                self.store.save(meter_id, contrib.kwh, contrib.gaps, contrib.events, last)
                self.pending[meter_id] = Contributions()

    def backfill(self, meter_id: str, ts: FloatArray, values: FloatArray) -> int:
        """A meter's readings from history, integrated at once; intervals replaced. How many intervals."""
        m = self.meters[meter_id]
        if len(ts) < 2:
            return 0
        if m.kind == "power":
            starts, kwh, gaps = power_intervals(ts, values, self.section.max_gap)
            events: list[CounterEvent] = []
        else:
            starts, kwh, gaps, events = counter_intervals(ts, values, self.section.max_gap, m.rollover)
        last = (float(ts[-1]), float(values[-1]))
        self.store.save(meter_id, dict(zip(starts.tolist(), kwh.tolist(), strict=True)), gaps, events, last,
                        replace=True)
        self.integrators[meter_id].last = last
        return len(starts)

    # ------------------------------------------------------------ helpers
    def _meter(self, meter_id: str) -> Meter:
        if not meter_id:
            return self._top()
        found = self.meters.get(meter_id)
        if found is None:
            raise NotFound(f"no meter {meter_id!r} (meters: {', '.join(sorted(self.meters)) or 'none'})")
        return found

    def _demand_meter(self, meter_id: str) -> Meter:
        chosen = meter_id or self.section.demand_meter
        return self._meter(chosen if chosen in self.meters or meter_id else "")

    def _top(self) -> Meter:
        tops = [m for m in self.meters.values() if m.parent is None]
        if not tops:
            raise NotFound("this site has no meters (tag a power or energy point, or list [[energy.meters]])")
        return tops[0]

    def _heads(self, node: str) -> list[str]:
        """The meters a summary under ``node`` adds up: the meter itself, or the topmost meters inside a
        node of the building model (a site, space or piece of equipment)."""
        if node in self.meters:
            return [node]
        inside = {m.id for m in self.meters.values() if node in m.ancestors}
        if not inside:
            raise NotFound(f"no meter is {node!r} or under it (meters: {', '.join(sorted(self.meters)) or 'none'})")
        return sorted(m for m in inside if self.meters[m].parent not in inside)

    def _series(self, meter_id: str, start: float, end: float) -> tuple[FloatArray, FloatArray]:
        self.flush()
        return self.store.intervals(meter_id, start, end)

    def _covered(self, meter_id: str) -> float | None:
        last = self.integrators[meter_id].last
        return last[0] if last is not None else None

    # ------------------------------------------------------------ queries
    def meter_views(self, now: float) -> list[MeterView]:
        self.flush()
        day0 = period_start(now, "day", self.tz)
        out: list[MeterView] = []
        for m in sorted(self.meters.values(), key=lambda x: (self.hierarchy.depth(x.id), x.id)):
            _, kwh = self.store.intervals(m.id, day0, now + QUARTER)
            gaps, events = self.store.gaps(m.id), self.store.events(m.id)
            last = self.integrators[m.id].last
            gap = gaps[-1] if gaps else None
            event = events[-1] if events else None
            out.append(MeterView(
                id=m.id, name=m.name, point=m.point, kind=m.kind, level=m.level, parent=m.parent,
                depth=self.hierarchy.depth(m.id), end_use=m.end_use,
                last_ts=last[0] if last else None, last_value=last[1] if last else None,
                today_kwh=float(kwh.sum()), gaps=len(gaps),
                last_gap=f"{_when(gap.start, self.tz)} to {_when(gap.end, self.tz)}" if gap else "",
                events=len(events),
                last_event=f"{event.kind} at {_when(event.ts, self.tz)} ({event.before:g} -> {event.after:g})"
                if event else "", timezone=self.tz.key))
        return out

    def summary(self, period: str, node: str, start: float | None, end: float | None, now: float) -> EnergySummary:
        if period not in PERIODS:
            raise ConfigError(f"period: {period!r} is not one of {', '.join(PERIODS)}")
        p: Period = period
        span_end = end if end is not None else period_end(period_start(now, p, self.tz), p, self.tz)
        default_back = {"15m": DAY, "hour": 2 * DAY, "day": 31 * DAY, "week": 12 * 7 * DAY, "month": 366 * DAY}[p]
        span_start = period_start(start if start is not None else span_end - default_back, p, self.tz)  # whole periods
        if span_end <= span_start:
            raise ConfigError("the span's end must come after its start")
        heads = self._heads(node) if node else [m.id for m in self.meters.values() if m.parent is None]
        series = merge(self._series(h, span_start, span_end) for h in heads)
        covered = [c for h in heads if (c := self._covered(h)) is not None]
        r = rollup(series[0], series[1], p, self.tz, (span_start, span_end), min(covered) if covered else None)
        rows = tuple(PeriodRow(label=label(float(s), p, self.tz), start=float(s), end=float(e), kwh=float(k),
                               quarters=int(q), expected=int(x), final=bool(f))
                     for s, e, k, q, x, f in zip(r.starts, r.ends, r.kwh, r.quarters, r.expected, r.final, strict=True))
        members = [m for h in heads for m in self.hierarchy.under(h)]
        totals = {m: float(self._series(m, span_start, span_end)[1].sum()) for m in members}
        unmetered = self.hierarchy.unmetered(totals)
        meters = tuple(MeterTotal(id=m, depth=self.hierarchy.depth(m), kwh=totals[m], unmetered=unmetered.get(m))
                       for m in members)
        return EnergySummary(node=node, period=period, start=span_start, end=span_end, rows=rows, meters=meters)

    def demand(self, meter_id: str, month: str, now: float) -> DemandView:
        m = self._demand_meter(meter_id)
        start, end = self._month(month, now)
        starts, kwh = self._series(m.id, start, end)
        s = summarise(starts, kwh, self.tz, span=min(end, max(now, start)) - start, night=self.section.night)
        slide_starts, slide_kw = self._sliding(m, start, end)
        i = int(np.argmax(slide_kw)) if len(slide_kw) else -1
        window, projected = self.projection(now, m.id)
        return DemandView(meter=m.id, month=label(start, "month", self.tz), peak_kw=s.peak_kw, peak_at=s.peak_at,
                          sliding_peak_kw=float(slide_kw[i]) if i >= 0 else 0.0,
                          sliding_peak_at=float(slide_starts[i]) if i >= 0 else None,
                          average_kw=s.average_kw, load_factor=s.load_factor, base_kw=s.base_kw,
                          peak_to_base=s.peak_to_base, kwh=s.kwh, window_start=window, projected_kw=projected,
                          demand_point=self.section.demand_point, timezone=self.tz.key)

    def _sliding(self, m: Meter, start: float, end: float) -> tuple[FloatArray, FloatArray]:
        """Sliding 15-minute demand over 5-minute sub-intervals: of a power meter's recorded readings when
        history has them, else of its 15-minute intervals split evenly (the store keeps quarters)."""
        if m.kind == "power" and self.readings is not None:
            ts, kw = self.readings(m.point, start, end)
            if len(ts) > 1:
                sub, kwh5, _ = power_intervals(ts, kw, self.section.max_gap, width=300.0)
                return sliding_demand(sub, kwh5)
        starts, kwh = self._series(m.id, start, end)
        if len(starts) == 0:
            return np.empty(0), np.empty(0)
        sub = (starts[:, None] + np.array([0.0, 300.0, 600.0])[None, :]).ravel()
        return sliding_demand(sub, np.repeat(kwh / 3.0, 3))

    def projection(self, now: float, meter_id: str = "") -> tuple[float, float | None]:
        """(the window under way, its projected kW) for the demand meter; None before any reading."""
        m = self._demand_meter(meter_id)
        window = math.floor(now / QUARTER) * QUARTER
        integ = self.integrators[m.id]
        if integ.last is None:
            return window, None
        pending = self.pending[m.id].kwh.get(window, 0.0)
        _, stored = self.store.intervals(m.id, window, window + 1)
        so_far = pending + float(stored.sum())
        last_ts = integ.last[0]
        kw = integ.kw
        if last_ts > window:  # from the last reading to now, held at its power
            so_far += kw * max(0.0, now - last_ts) / 3600.0
        else:
            so_far = kw * (now - window) / 3600.0
        return window, projected_demand(window, now, so_far, kw)

    def _month(self, month: str, now: float) -> tuple[float, float]:
        if not month:
            start = period_start(now, "month", self.tz)
            return start, period_end(start, "month", self.tz)
        try:
            return month_span(month, self.tz)
        except ValueError as err:
            raise ConfigError(f"month: {err}") from err

    def bill(self, month: str, meter_id: str, now: float) -> Bill:
        m = self._meter(meter_id)
        start, end = self._month(month, now)
        starts, kwh = self._series(m.id, start, end)
        days = round((end - start) / DAY)
        return bill(m.id, label(start, "month", self.tz), starts.tolist(), kwh.tolist(), self.section.tariff,
                    self.tz, days, expected=round((end - start) / QUARTER))

    # ------------------------------------------------------------ baselines
    def _daily(self, m: Meter, start: float, end: float, day_type: str = "all"
               ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(day starts, kWh, mean OAT) of the complete days in ``[start, end)`` that have temperatures
        (``day_type``: all, weekdays or weekends -- an office's two kinds of day, modelled apart)."""
        if day_type not in DAY_TYPES:
            raise ConfigError(f"days: {day_type!r} is not one of {', '.join(DAY_TYPES)}")
        if self.oat is None or not self.oat_point:
            raise NotFound("no outdoor-air temperature point: set [energy] oat or tag one outside, air, temp, sensor")
        starts, kwh = self._series(m.id, start, end)
        r = rollup(starts, kwh, "day", self.tz, (start, end))
        ts, temps = self.oat(start, end)
        edges = boundaries(start, end, "day", self.tz)
        idx = np.searchsorted(edges, ts, side="right") - 1
        ok = (idx >= 0) & (idx < len(edges) - 1) & np.isfinite(temps)
        tsum = np.bincount(idx[ok], weights=temps[ok], minlength=len(edges) - 1)[: len(edges) - 1]
        tcount = np.bincount(idx[ok], minlength=len(edges) - 1)[: len(edges) - 1]
        complete = (r.quarters >= 0.9 * r.expected) & (tcount > 0) & (r.ends <= end)
        mean = np.divide(tsum, tcount, out=np.full(len(tsum), np.nan), where=tcount > 0)
        if day_type != "all":
            weekend = np.array([datetime.fromtimestamp(s, self.tz).weekday() >= 5 for s in r.starts.tolist()], dtype=bool)
            complete &= weekend if day_type == "weekends" else ~weekend
        return r.starts[complete], r.kwh[complete], mean[complete]

    def _periods(self, days: FloatArray, kwh: FloatArray, temps: FloatArray, granularity: str) -> Periods:
        if granularity == "day":
            return Periods.daily(kwh.tolist(), temps.tolist())
        if granularity != "month":
            raise ConfigError(f"granularity: {granularity!r} is not day or month")
        keys = [label(float(d), "month", self.tz) for d in days]
        ys: dict[str, float] = {}
        ts: dict[str, list[float]] = {}
        for k, y, t in zip(keys, kwh.tolist(), temps.tolist(), strict=True):
            ys[k] = ys.get(k, 0.0) + y
            ts.setdefault(k, []).append(t)
        return Periods.grouped(list(ys.values()), list(ts.values()))

    def _fit(self, m: Meter, start: float, end: float, model: str, granularity: str, day_type: str = "all"
             ) -> tuple[Model, FloatArray, FloatArray, FloatArray, Periods]:
        if model not in MODELS:
            raise ConfigError(f"model: {model!r} is not one of {', '.join(MODELS)}")
        if end <= start:
            raise ConfigError("the baseline's end must come after its start")
        days, kwh, temps = self._daily(m, start, end, day_type)
        periods = self._periods(days, kwh, temps, granularity)
        try:
            fitted = fit(periods, model, self.section.balance_step)  # type: ignore[arg-type]
        except ValueError as err:
            raise NotFound(f"no baseline for {m.id} from {label(start, 'day', self.tz)} to "
                           f"{label(end, 'day', self.tz)}: {err}") from err
        return fitted, days, kwh, temps, periods

    def baseline(self, start: float, end: float, meter_id: str, model: str, granularity: str,
                 day_type: str = "all") -> BaselineView:
        m = self._meter(meter_id)
        fitted, days, kwh, temps, _ = self._fit(m, start, end, model, granularity, day_type)
        predicted = fitted.predict(Periods.daily(kwh.tolist(), temps.tolist()))
        points = tuple(DayPoint(day=label(float(d), "day", self.tz), kwh=float(k), oat=float(t), predicted=float(p))
                       for d, k, t, p in zip(days, kwh, temps, predicted, strict=True))
        return BaselineView(meter=m.id, oat=self.oat_point, start=start, end=end, granularity=granularity,
                            day_type=day_type, model=_model_view(fitted, 12.0), days=points, timezone=self.tz.key)

    def savings(self, since: float, until: float, baseline: tuple[float, float], meter_id: str, model: str,
                confidence: float, day_type: str = "all") -> SavingsView:
        m = self._meter(meter_id)
        if not 0.5 <= confidence < 1.0:
            raise ConfigError(f"confidence: {confidence} is not within [0.5, 1)")
        fitted, *_ = self._fit(m, baseline[0], baseline[1], model, "day", day_type)
        days, kwh, temps = self._daily(m, since, until, day_type)
        if len(days) == 0:
            raise NotFound(f"no complete days of {m.id} with temperatures since {label(since, 'day', self.tz)}")
        result = savings(fitted, Periods.daily(kwh.tolist(), temps.tolist()), confidence)
        months = (until - since) / (30.44 * DAY)
        return SavingsView(meter=m.id, baseline_start=baseline[0], baseline_end=baseline[1], since=since, until=until,
                           model=_model_view(fitted, months), baseline_kwh=result.baseline_kwh,
                           metered_kwh=result.metered_kwh, avoided_kwh=result.avoided_kwh,
                           uncertainty_kwh=result.uncertainty_kwh, confidence=confidence, fraction=result.fraction,
                           periods=result.m, acceptable=result.acceptable, day_type=day_type,
                           timezone=self.tz.key)

    def intervals(self, period: str, meter_id: str, start: float | None, end: float | None, now: float) -> list[PeriodRow]:
        m = self._meter(meter_id)
        return list(self.summary(period, m.id, start, end, now).rows)


def _model_view(model: Model, reporting_months: float) -> ModelView:
    ok = model.acceptable(reporting_months)
    return ModelView(kind=model.kind, base_per_day=model.base, heating_slope=model.heating_slope,
                     cooling_slope=model.cooling_slope, heating_balance=model.heating_balance,
                     cooling_balance=model.cooling_balance, n=model.n, params=model.params, r2=model.r2,
                     cvrmse=model.cvrmse, nmbe=model.nmbe, r2_ok=ok["r2"], cvrmse_ok=ok["cvrmse"], nmbe_ok=ok["nmbe"],
                     cvrmse_limit=cvrmse_limit(reporting_months))


__all__ = ["EnergyBook"]
