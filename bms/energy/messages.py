"""The asks of the ``energy`` service (the energy component) and what it answers."""

from __future__ import annotations

import msgspec

from bms.messages import Message


class _View(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class MeterView(_View, frozen=True):
    """A meter: where it sits in the hierarchy, what it reads, what it has seen."""

    id: str
    name: str
    point: str
    kind: str  # power (kW, integrated) | energy (kWh counter)
    level: str
    parent: str | None = None
    depth: int = 0
    end_use: str = ""
    last_ts: float | None = None
    last_value: float | None = None
    today_kwh: float = 0.0
    gaps: int = 0
    last_gap: str = ""
    events: int = 0  # counter rollovers and resets
    last_event: str = ""
    timezone: str = ""  # the site's (times above are epoch seconds)


class PeriodRow(_View, frozen=True):
    label: str
    start: float
    end: float
    kwh: float
    quarters: int
    expected: int
    final: bool


class MeterTotal(_View, frozen=True):
    id: str
    depth: int
    kwh: float
    unmetered: float | None = None  # this meter minus its sub-meters


class EnergySummary(_View, frozen=True):
    node: str
    period: str
    start: float
    end: float
    rows: tuple[PeriodRow, ...]
    meters: tuple[MeterTotal, ...]


class DemandView(_View, frozen=True):
    meter: str
    month: str
    peak_kw: float
    peak_at: float | None
    sliding_peak_kw: float
    sliding_peak_at: float | None
    average_kw: float
    load_factor: float | None
    base_kw: float | None
    peak_to_base: float | None
    kwh: float
    window_start: float
    projected_kw: float | None
    demand_point: str = ""
    timezone: str = ""


class ModelView(_View, frozen=True):
    kind: str
    base_per_day: float
    heating_slope: float
    cooling_slope: float
    heating_balance: float | None
    cooling_balance: float | None
    n: int
    params: int
    r2: float
    cvrmse: float
    nmbe: float
    r2_ok: bool
    cvrmse_ok: bool
    nmbe_ok: bool
    cvrmse_limit: float


class DayPoint(_View, frozen=True):
    day: str
    kwh: float
    oat: float
    predicted: float


class BaselineView(_View, frozen=True):
    meter: str
    oat: str
    start: float
    end: float
    granularity: str
    model: ModelView
    days: tuple[DayPoint, ...] = ()
    day_type: str = "all"  # all, weekdays or weekends
    timezone: str = ""


class SavingsView(_View, frozen=True):
    meter: str
    baseline_start: float
    baseline_end: float
    since: float
    until: float
    model: ModelView
    baseline_kwh: float
    metered_kwh: float
    avoided_kwh: float
    uncertainty_kwh: float
    confidence: float
    fraction: float
    periods: int
    acceptable: bool
    day_type: str = "all"
    timezone: str = ""


class ListMeters(Message, frozen=True):
    pass


class GetSummary(Message, frozen=True):
    """Consumption of ``node`` (a meter; empty: the top meters) by ``period`` over ``[start, end)``."""

    period: str = "day"
    node: str = ""
    start: str = ""  # as people type times (2026-11-01, -7d, ISO 8601), in the site's zone; empty: a default span
    end: str = ""


class GetDemand(Message, frozen=True):
    meter: str = ""
    month: str = ""  # YYYY-MM; empty: this month


class GetBill(Message, frozen=True):
    month: str
    meter: str = ""


class GetBaseline(Message, frozen=True):
    start: str
    end: str
    meter: str = ""
    model: str = "auto"
    granularity: str = "day"
    day_type: str = "all"  # all, weekdays or weekends


class GetSavings(Message, frozen=True):
    since: str
    until: str = ""  # empty: now
    baseline_start: str = ""  # default: the year before since
    baseline_end: str = ""
    meter: str = ""
    model: str = "auto"
    confidence: float = 0.90
    day_type: str = "all"


class GetIntervals(Message, frozen=True):
    """The CSV export: ``meter`` by ``period`` over ``[start, end)``."""

    period: str = "15m"
    meter: str = ""
    start: str = ""
    end: str = ""


ENERGY_MESSAGES: tuple[type[msgspec.Struct], ...] = (
    ListMeters, GetSummary, GetDemand, GetBill, GetBaseline, GetSavings, GetIntervals,
)
