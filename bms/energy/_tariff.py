"""Tariffs and the bill of a month, line by line.

A :class:`Tariff` holds any of: a flat energy rate; time-of-use periods (each a rate on some weekdays,
local hours, months -- the season -- and, or not, public holidays); tiered blocks on the month's total
kWh; a demand charge on the billing period's 15-minute peak; an on-peak demand charge on the peak
within one time-of-use period; fixed charges per month and per day. Holidays come from the
``holidays`` library for the tariff's country and subdivision: on a holiday, periods that do not say
``holidays = true`` do not apply (the kWh fall to the other periods or the flat rate).

``bill`` prices the 15-minute intervals of a month: every line says what was counted (kWh or kW),
at what rate, and the amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from bms.energy._demand import QUARTER

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {"weekdays": DAYS[:5], "weekend": DAYS[5:], "all": DAYS}
Rate = Annotated[float, Meta(ge=0)]
Hour = Annotated[int, Meta(ge=0, le=24)]
Month = Annotated[int, Meta(ge=1, le=12)]


class TouPeriod(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A time-of-use period: ``rate`` per kWh on ``days`` from ``start`` to ``end`` (local hours; end
    before start wraps past midnight), in ``months`` (none: all year), on holidays only if ``holidays``."""

    name: str
    rate: Rate
    days: tuple[str, ...] = ("weekdays",)
    start: Hour = 0
    end: Hour = 24
    months: tuple[Month, ...] = ()
    holidays: bool = False

    def problem(self) -> str | None:
        for day in self.days:
            if day not in DAYS and day not in DAY_SETS:
                return f"days: {day!r} is not one of {', '.join(DAYS + tuple(DAY_SETS))}"
        if self.start == self.end:
            return f"end: the same hour as start ({self.start}): {self.name} would never apply"
        return None

    def weekdays(self) -> frozenset[int]:
        out: set[int] = set()
        for day in self.days:
            out.update(DAYS.index(d) for d in DAY_SETS.get(day, (day,)))
        return frozenset(out)


class Tier(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A block: ``rate`` per kWh for the month's kWh up to ``up_to`` (cumulative; none: all the rest)."""

    rate: Rate
    up_to: Annotated[float, Meta(gt=0)] | None = None


class Tariff(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[energy.tariff]``: the site's supply tariff."""

    name: str = "flat"
    currency: str = "GBP"
    energy_rate: Rate = 0.0  # per kWh outside every period (all kWh on a flat tariff)
    periods: tuple[TouPeriod, ...] = ()
    tiers: tuple[Tier, ...] = ()
    demand_rate: Rate = 0.0  # per kW of the billing period's 15-minute peak
    on_peak_demand_rate: Rate = 0.0  # per kW of the peak within on_peak_period
    on_peak_period: str = ""
    fixed_monthly: Rate = 0.0
    fixed_daily: Rate = 0.0
    holidays_country: str = ""  # e.g. GB; empty: no holidays
    holidays_subdiv: str = ""  # e.g. ENG

    def config_problems(self) -> list[tuple[str, str]]:
        """For the config loader: (key, message) of each problem."""
        return [(key, message) for key, _, message in (p.partition(": ") for p in self.problems())]

    def problems(self) -> list[str]:
        out = [f"periods[{i}].{why}" for i, p in enumerate(self.periods) if (why := p.problem())]
        if self.periods and self.tiers:
            out.append("periods and tiers: a tariff prices kWh by time of use or by blocks, not both")
        bounds = [t.up_to for t in self.tiers]
        if any(b is None for b in bounds[:-1]):
            out.append("tiers: only the last block may leave up_to out")
        known = [b for b in bounds if b is not None]
        if known != sorted(known) or len(set(known)) != len(known):
            out.append("tiers: up_to must increase from block to block")
        if self.on_peak_demand_rate and self.on_peak_period not in {p.name for p in self.periods}:
            out.append(f"on_peak_period: {self.on_peak_period!r} names no period")
        if self.holidays_country:
            try:
                _holidays(self.holidays_country, self.holidays_subdiv, 2026)
            except (KeyError, NotImplementedError) as err:
                out.append(f"holidays_country: {self.holidays_country!r} / {self.holidays_subdiv!r}: {err}")
        return out


class BillLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One line of a bill: ``quantity`` ``unit`` at ``rate`` makes ``amount``."""

    item: str
    quantity: float
    unit: str
    rate: float
    amount: float


class Bill(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    meter: str
    month: str
    tariff: str
    currency: str
    kwh: float
    peak_kw: float
    peak_at: float | None
    lines: tuple[BillLine, ...]
    total: float
    intervals: int = 0
    complete: bool = True  # every interval of the month has data
    timezone: str = ""


def _holidays(country: str, subdiv: str, year: int) -> set[date]:
    import holidays

    found = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    return set(found.keys())


@dataclass(frozen=True, slots=True)
class _Matcher:
    period: TouPeriod
    days: frozenset[int]

    def applies(self, local: datetime, holiday: bool) -> bool:
        p = self.period
        if holiday and not p.holidays:
            return False
        if p.months and local.month not in p.months:
            return False
        if local.weekday() not in self.days:
            return False
        hour = local.hour + local.minute / 60.0
        return p.start <= hour < p.end if p.start < p.end else (hour >= p.start or hour < p.end)


def classify(starts: Sequence[float], tariff: Tariff, tz: ZoneInfo) -> list[str]:
    """The time-of-use period of each interval start (``""``: none, the flat rate)."""
    matchers = [_Matcher(p, p.weekdays()) for p in tariff.periods]
    years: dict[int, set[date]] = {}
    out: list[str] = []
    for start in starts:
        local = datetime.fromtimestamp(start, tz)
        holiday = False
        if tariff.holidays_country:
            if local.year not in years:
                years[local.year] = _holidays(tariff.holidays_country, tariff.holidays_subdiv, local.year)
            holiday = local.date() in years[local.year]
        out.append(next((m.period.name for m in matchers if m.applies(local, holiday)), ""))
    return out


def _tiered(total: float, tiers: Sequence[Tier]) -> list[BillLine]:
    lines: list[BillLine] = []
    floor = 0.0
    for tier in tiers:
        top = total if tier.up_to is None else min(total, tier.up_to)
        used = max(0.0, top - floor)
        name = f"energy {floor:g}-{tier.up_to:g} kWh" if tier.up_to is not None else f"energy over {floor:g} kWh"
        lines.append(BillLine(item=name, quantity=used, unit="kWh", rate=tier.rate, amount=used * tier.rate))
        if tier.up_to is None or total <= tier.up_to:
            break
        floor = tier.up_to
    return lines


def bill(meter: str, month: str, starts: Sequence[float], kwh: Sequence[float], tariff: Tariff, tz: ZoneInfo,
         days: int, expected: int | None = None) -> Bill:
    """The bill of one month's 15-minute intervals (``days`` in the month, ``expected`` intervals in it)."""
    total = float(sum(kwh))
    lines: list[BillLine] = []
    periods = classify(starts, tariff, tz) if tariff.periods else [""] * len(starts)
    if tariff.tiers:
        lines += _tiered(total, tariff.tiers)
    elif tariff.periods:
        by: dict[str, float] = {p.name: 0.0 for p in tariff.periods}
        other = 0.0
        for name, value in zip(periods, kwh, strict=True):
            if name:
                by[name] += value
            else:
                other += value
        for p in tariff.periods:
            lines.append(BillLine(item=f"energy {p.name}", quantity=by[p.name], unit="kWh", rate=p.rate,
                                  amount=by[p.name] * p.rate))
        lines.append(BillLine(item="energy other hours", quantity=other, unit="kWh", rate=tariff.energy_rate,
                              amount=other * tariff.energy_rate))
    else:
        lines.append(BillLine(item="energy", quantity=total, unit="kWh", rate=tariff.energy_rate,
                              amount=total * tariff.energy_rate))
    demand = [value * 3600.0 / QUARTER for value in kwh]
    top = max(demand, default=0.0)
    peak_at = starts[demand.index(top)] if demand else None
    if tariff.demand_rate:
        lines.append(BillLine(item="demand (15-min peak)", quantity=top, unit="kW", rate=tariff.demand_rate,
                              amount=top * tariff.demand_rate))
    if tariff.on_peak_demand_rate:
        on = max((d for d, p in zip(demand, periods, strict=True) if p == tariff.on_peak_period), default=0.0)
        lines.append(BillLine(item=f"demand in {tariff.on_peak_period}", quantity=on, unit="kW",
                              rate=tariff.on_peak_demand_rate, amount=on * tariff.on_peak_demand_rate))
    if tariff.fixed_monthly:
        lines.append(BillLine(item="standing charge (month)", quantity=1, unit="month", rate=tariff.fixed_monthly,
                              amount=tariff.fixed_monthly))
    if tariff.fixed_daily:
        lines.append(BillLine(item="standing charge (days)", quantity=days, unit="day", rate=tariff.fixed_daily,
                              amount=days * tariff.fixed_daily))
    return Bill(meter=meter, month=month, tariff=tariff.name, currency=tariff.currency, kwh=total, peak_kw=top,
                peak_at=peak_at, lines=tuple(lines), total=sum(line.amount for line in lines),
                intervals=len(kwh), complete=expected is None or len(kwh) >= expected, timezone=str(tz.key))


__all__ = ["Bill", "BillLine", "Tariff", "Tier", "TouPeriod", "bill", "classify"]
