"""Energy analytics: consumption, demand, tariffs, weather-normalised baselines and savings.

Plain mathematics over arrays and readings, no threads (the ``energy`` component runs it):

* :mod:`._integrate` -- kW by the trapezoid rule and kWh counters (rollover, replacement) into
  15-minute kWh, gaps reported (:class:`PowerIntegrator`, :class:`CounterIntegrator`,
  :func:`power_intervals`, :func:`counter_intervals`);
* :mod:`._periods`, :mod:`._intervals` -- local hours, days, weeks, months; :func:`rollup` and the
  meter :class:`Hierarchy` (unmetered = parent minus children);
* :mod:`._demand` -- fixed and sliding 15-minute demand, peak, load factor, base load, projection;
* :mod:`._tariff` -- flat, time-of-use, tiered, demand and fixed charges: :func:`bill`;
* :mod:`._baseline` -- degree days, 3P/5P change-point models, Guideline 14 statistics, savings.
"""

from bms.energy._baseline import Model, Periods, Savings, cvrmse_limit, degree_days, fit, savings, statistics, t_quantile
from bms.energy._demand import DemandSummary, fixed_demand, peak, projected_demand, sliding_demand, summarise
from bms.energy._integrate import (
    Contributions,
    CounterEvent,
    CounterIntegrator,
    Gap,
    PowerIntegrator,
    counter_delta,
    counter_intervals,
    power_intervals,
)
from bms.energy._intervals import Hierarchy, Rollup, merge, rollup
from bms.energy._periods import PERIODS, Period, boundaries, label, month_span, period_end, period_start
from bms.energy._settings import EnergySection, MeterSpec
from bms.energy._tariff import Bill, BillLine, Tariff, Tier, TouPeriod, bill, classify

__all__ = [
    "PERIODS", "Bill", "BillLine", "Contributions", "CounterEvent", "CounterIntegrator", "DemandSummary",
    "EnergySection", "Gap", "Hierarchy", "MeterSpec", "Model", "Period", "Periods", "PowerIntegrator", "Rollup",
    "Savings", "Tariff", "Tier", "TouPeriod", "bill", "boundaries", "classify", "counter_delta", "counter_intervals",
    "cvrmse_limit", "degree_days", "fit", "fixed_demand", "label", "merge", "month_span", "peak", "period_end",
    "period_start", "power_intervals", "projected_demand", "rollup", "savings", "sliding_demand", "statistics",
    "summarise", "t_quantile",
]
