"""Demand windows, peak, load factor, base load, the projection; rollups over local days (DST)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bms.energy import Hierarchy, fixed_demand, peak, projected_demand, rollup, sliding_demand, summarise

LONDON = ZoneInfo("Europe/London")


def test_fixed_and_sliding_windows() -> None:
    sub = np.array([0.0, 300.0, 600.0, 900.0, 1200.0, 1500.0])
    kwh = np.array([1.0, 1.0, 1.0, 4.0, 1.0, 1.0])
    starts, kw = sliding_demand(sub, kwh)
    assert starts.tolist() == [0.0, 300.0, 600.0, 900.0]
    assert kw.tolist() == pytest.approx([12.0, 24.0, 24.0, 24.0])
    assert peak(starts, kw) == (pytest.approx(24.0), 300.0)  # the first window reaching it
    assert fixed_demand(np.array([3.0, 6.0])).tolist() == [12.0, 24.0]


def test_a_sliding_window_with_a_missing_sub_interval_is_not_counted() -> None:
    starts, kw = sliding_demand(np.array([0.0, 300.0, 900.0, 1200.0, 1500.0]), np.ones(5))
    assert starts.tolist() == [900.0]
    assert kw.tolist() == [12.0]


def test_projection_holds_the_present_power_to_the_window_end() -> None:
    # 5 kWh in the first 10 minutes, 30 kW now: 5 + 30 * 5/60 = 7.5 kWh in 15 minutes = 30 kW
    assert projected_demand(0.0, 600.0, 5.0, 30.0) == pytest.approx(30.0)
    assert projected_demand(0.0, 900.0, 5.0, 30.0) == pytest.approx(20.0)


def test_summary_peak_load_factor_base_and_peak_to_base() -> None:
    day = datetime(2026, 11, 3, tzinfo=LONDON).timestamp()
    starts = day + 900.0 * np.arange(96)
    kwh = np.full(96, 5.0)  # 20 kW
    kwh[0:20] = 2.5  # 10 kW from 00:00 to 05:00 (the night)
    kwh[40] = 15.0  # 60 kW at 10:00
    s = summarise(starts, kwh, LONDON, span=86400.0)
    assert s.peak_kw == pytest.approx(60.0) and s.peak_at == starts[40]
    total = 20 * 2.5 + 75 * 5.0 + 15.0
    assert s.kwh == pytest.approx(total)
    assert s.average_kw == pytest.approx(total / 24)
    assert s.load_factor == pytest.approx(total / 24 / 60)
    assert s.base_kw == pytest.approx(10.0)
    assert s.peak_to_base == pytest.approx(6.0)


@pytest.mark.parametrize(("day", "quarters"), [((2026, 3, 29), 92), ((2026, 10, 25), 100), ((2026, 11, 3), 96)])
def test_local_days_have_23_24_or_25_hours(day: tuple[int, int, int], quarters: int) -> None:
    start = datetime(*day, tzinfo=LONDON).timestamp()
    starts = start - 86400 + 900.0 * np.arange(4 * 24 * 3)
    r = rollup(starts, np.ones(len(starts)), "day", LONDON, (start, start + 1), covered_to=start + 200_000)
    assert r.expected.tolist() == [quarters]
    assert r.quarters.tolist() == [quarters] and r.kwh.tolist() == [quarters]
    assert r.final.tolist() == [True]


def test_a_period_is_final_only_once_the_meter_has_reported_past_its_end() -> None:
    start = datetime(2026, 11, 3, tzinfo=LONDON).timestamp()
    starts = start + 900.0 * np.arange(96 + 8)
    r = rollup(starts, np.ones(len(starts)), "hour", LONDON, (start, start + 26 * 3600), covered_to=start + 25 * 3600)
    assert r.final.tolist() == [True] * 25 + [False]
    assert r.kwh.tolist()[:26] == [4.0] * 26


def test_monthly_and_weekly_rollups() -> None:
    start = datetime(2026, 10, 1, tzinfo=LONDON).timestamp()
    end = datetime(2026, 12, 1, tzinfo=LONDON).timestamp()
    starts = np.arange(start, end, 900.0)
    r = rollup(starts, np.ones(len(starts)), "month", LONDON, (start, end - 1))
    assert r.kwh.tolist() == [31 * 96 + 4, 30 * 96]  # October has the extra hour


def test_unmetered_is_the_parent_minus_its_children() -> None:
    h = Hierarchy({"main": None, "hvac": "main", "lighting": "main", "ahu1": "hvac"})
    assert h.problems() == []
    assert h.under("main") == ["main", "hvac", "ahu1", "lighting"]
    assert h.unmetered({"main": 100.0, "hvac": 60.0, "lighting": 25.0, "ahu1": 40.0}) == {
        "main": pytest.approx(15.0), "hvac": pytest.approx(20.0)}
    assert Hierarchy({"a": "b"}).problems() == ["a: parent 'b' is not a meter"]
    assert Hierarchy({"a": "b", "b": "a"}).problems() == ["a: its parents make a loop", "b: its parents make a loop"]
