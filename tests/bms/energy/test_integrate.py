"""Readings into 15-minute kWh: trapezoids, gaps, counter rollover and replacement (hand-computed)."""

from __future__ import annotations

import numpy as np
import pytest

from bms.energy import (
    Contributions,
    CounterIntegrator,
    Gap,
    PowerIntegrator,
    counter_delta,
    counter_intervals,
    power_intervals,
)

T0 = 1_790_000_100.0 // 900 * 900  # an interval boundary


def feed_power(readings: list[tuple[float, float]], max_gap: float = 900.0) -> Contributions:
    out = Contributions()
    integ = PowerIntegrator(max_gap)
    for ts, kw in readings:
        integ.add(T0 + ts, kw, out)
    return out


def test_trapezoids_within_one_interval() -> None:
    # (10+20)/2 kW for 450 s = 1.875 kWh, then 20 kW for 450 s = 2.5 kWh
    out = feed_power([(0, 10), (450, 20), (900, 20)])
    assert out.kwh == {T0: pytest.approx(4.375)}
    assert out.gaps == []


def test_a_segment_across_a_boundary_is_split_at_the_interpolated_power() -> None:
    # 0 kW at 600 s rising to 12 kW at 1200 s: 6 kW at the boundary (900 s)
    out = feed_power([(600, 0), (1200, 12)])
    assert out.kwh[T0] == pytest.approx((0 + 6) / 2 * 300 / 3600)  # 0.25
    assert out.kwh[T0 + 900] == pytest.approx((6 + 12) / 2 * 300 / 3600)  # 0.75
    assert sum(out.kwh.values()) == pytest.approx(1.0)


def test_no_integration_across_a_gap_longer_than_the_limit_and_the_gap_is_reported() -> None:
    out = feed_power([(0, 10), (600, 10), (2400, 10), (3000, 10)], max_gap=900)
    assert out.kwh == {T0: pytest.approx(10 * 600 / 3600), T0 + 1800: pytest.approx(10 * 300 / 3600),
                       T0 + 2700: pytest.approx(10 * 300 / 3600)}
    assert out.gaps == [Gap(T0 + 600, T0 + 2400)]


def test_late_and_repeated_readings_are_not_integrated_twice() -> None:
    out = feed_power([(0, 10), (900, 10), (450, 99), (900, 10)])
    assert out.kwh == {T0: pytest.approx(2.5)}


@pytest.mark.parametrize(("before", "after", "rollover", "expected"), [
    (100.0, 104.5, None, (4.5, "")),
    (9990.0, 5.0, 10_000.0, (15.0, "rollover")),  # wrapped through 10,000
    (5000.0, 3.0, 10_000.0, (3.0, "reset")),  # far from the top: a reset, not a wrap
    (5000.0, 3.0, None, (3.0, "reset")),  # a new meter reading 3 kWh since it was fitted
    (5000.0, -1.0, None, (0.0, "reset")),  # never negative
    (5000.0, 4000.0, None, (0.0, "drop")),  # back, but not to near zero: nothing counted, reported
])
def test_counter_deltas(before: float, after: float, rollover: float | None, expected: tuple[float, str]) -> None:
    delta, kind = counter_delta(before, after, rollover)
    assert (delta, kind) == (pytest.approx(expected[0]), expected[1])


def test_counter_rollover_and_replacement_give_no_negative_consumption() -> None:
    out = Contributions()
    integ = CounterIntegrator(max_gap=3600, rollover=10_000.0)
    for ts, reading in [(0, 9980.0), (900, 9995.0), (1800, 10.0), (2700, 20.0), (3600, 2.0)]:
        integ.add(T0 + ts, reading, out)
    assert out.kwh == {T0: pytest.approx(15.0), T0 + 900: pytest.approx(15.0), T0 + 1800: pytest.approx(10.0),
                       T0 + 2700: pytest.approx(2.0)}
    assert [(e.kind, e.before, e.after) for e in out.events] == [("rollover", 9995.0, 10.0), ("reset", 20.0, 2.0)]


def test_a_counter_delta_across_a_gap_is_kept_spread_and_reported() -> None:
    out = Contributions()
    integ = CounterIntegrator(max_gap=900)
    integ.add(T0, 100.0, out)
    integ.add(T0 + 2700, 106.0, out)  # 45 minutes without a reading: 6 kWh, 2 per interval
    assert out.kwh == {T0: pytest.approx(2.0), T0 + 900: pytest.approx(2.0), T0 + 1800: pytest.approx(2.0)}
    assert out.gaps == [Gap(T0, T0 + 2700, 6.0)]


def test_the_vectorised_power_integration_equals_the_incremental_one() -> None:
    rng = np.random.default_rng(7)
    ts = T0 + np.cumsum(rng.uniform(10, 400, 2000))
    ts[1000:] += 5000  # one gap
    kw = rng.uniform(0, 200, len(ts))
    out = feed_power([(t - T0, k) for t, k in zip(ts, kw, strict=True)], max_gap=900)
    starts, kwh, gaps = power_intervals(ts, kw, max_gap=900)
    assert dict(zip(starts.tolist(), kwh.tolist(), strict=True)) == pytest.approx(out.kwh)
    assert gaps == out.gaps and len(gaps) == 1


def test_the_vectorised_counter_integration_equals_the_incremental_one() -> None:
    rng = np.random.default_rng(3)
    ts = T0 + np.cumsum(rng.uniform(30, 600, 500))
    readings = np.cumsum(rng.uniform(0, 3, len(ts))) + 9000.0
    readings[300:] -= 1000.0 - 0.5  # wraps at 10,000
    readings = np.where(readings >= 10_000.0, readings - 10_000.0, readings)
    out = Contributions()
    integ = CounterIntegrator(max_gap=900, rollover=10_000.0)
    for t, r in zip(ts, readings, strict=True):
        integ.add(float(t), float(r), out)
    starts, kwh, gaps, events = counter_intervals(ts, readings, max_gap=900, rollover=10_000.0)
    assert dict(zip(starts.tolist(), kwh.tolist(), strict=True)) == pytest.approx(out.kwh)
    assert events == out.events and gaps == out.gaps
    assert (kwh >= 0).all()
