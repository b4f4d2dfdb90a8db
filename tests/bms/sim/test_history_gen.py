"""Generated demo history: seasons, an office's week, heating and cooling that a baseline can find."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bms.energy import Periods, fit, power_intervals, rollup
from bms.sim._history import Building, batches, generate

LONDON = ZoneInfo("Europe/London")
END = datetime(2026, 12, 1, tzinfo=LONDON).timestamp()


def test_a_year_of_quarter_hours_with_seasons_and_a_counter_that_integrates_the_power() -> None:
    ts, oat, kw, kwh = generate(365, END, LONDON)
    assert len(ts) == 365 * 96 and np.all(np.diff(ts) == 900.0) and ts[-1] == END - 900
    month = np.array([datetime.fromtimestamp(t, LONDON).month for t in ts[::96]])
    daily = oat.reshape(365, 96).mean(axis=1)
    assert daily[month == 1].mean() < daily[month == 7].mean() - 8  # winter well below summer
    assert (kw > 0).all()
    assert kwh[-1] - kwh[0] == pytest.approx(((kw[1:] + kw[:-1]) / 2 * 0.25).sum(), rel=1e-6)


def test_the_generated_building_has_the_balance_temperature_it_was_made_with() -> None:
    ts, oat, kw, _ = generate(365, END, LONDON, Building(noise=0.0, cool_above=99.0), seed=3)
    starts, kwh, gaps = power_intervals(ts, kw, max_gap=900)
    days = rollup(starts, kwh, "day", LONDON, (ts[0], END))
    temps = oat.reshape(365, 96).mean(axis=1)
    full = days.quarters == days.expected
    weekday = np.array([datetime.fromtimestamp(s, LONDON).weekday() < 5 for s in days.starts])
    keep = full & weekday
    model = fit(Periods.daily(days.kwh[keep], temps[: len(days.kwh)][keep]), "3PH")
    assert gaps == [] and model.heating_balance == pytest.approx(15.0, abs=2.5)


def test_batches_are_in_time_order() -> None:
    ts, oat, kw, _ = generate(2, END, LONDON)
    out = list(batches({"a": (ts, oat), "b": (ts, kw)}, size=100))
    flat = [pv.ts for batch in out for pv in batch]
    assert flat == sorted(flat) and len(flat) == 2 * len(ts) and max(len(b) for b in out) == 100
