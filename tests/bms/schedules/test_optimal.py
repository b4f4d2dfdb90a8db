"""Optimal start on a recorded warm-up: rates learned from history, the start against the hand-computed one."""

from __future__ import annotations

import math

import pytest

from bms.schedules import Rates, ZoneRates, lead_time, learn, optimal_start

T0 = 1_800_000_000.0


def recorded_warm_up(a: float, b: float, outdoor: float, start: float, minutes: int) -> list[tuple[float, float]]:
    """A zone warming from ``start`` at ``a - b * (T - outdoor)`` degrees per minute, sampled each minute
    (the exact solution of that model, as a well-behaved zone records it)."""
    ceiling = outdoor + a / b
    return [(T0 + 60.0 * m, ceiling + (start - ceiling) * math.exp(-b * m)) for m in range(minutes + 1)]


def test_rates_learned_from_a_recorded_warm_up_give_the_hand_computed_start() -> None:
    # recorded: outdoor 5 °C, setpoint 21 °C, the zone warms from 12 °C at 0.25 - 0.01·(T - To) °C/min
    zone = recorded_warm_up(0.25, 0.01, 5.0, 12.0, 60)
    rates = learn(zone, setpoint=[(T0 - 3600, 21.0)], outdoor=[(T0 - 3600, 5.0)])
    assert rates.warm_up.samples >= 30
    assert rates.warm_up.a == pytest.approx(0.25, rel=0.01)
    assert rates.warm_up.b == pytest.approx(0.01, rel=0.02)
    assert rates.cool_down.samples == 0  # nothing to learn: the default, and it says so
    assert "cool-down default" in rates.describe()
    # by hand: ceiling = 5 + 0.25 / 0.01 = 30 °C; from 15 °C to 21 °C takes
    # ln((30 - 15) / (30 - 21)) / 0.01 = ln(15 / 9) * 100 = 51.08 minutes, so occupancy at 07:00 starts at 06:08:55
    occupied = T0 + 86_400.0
    start = optimal_start(occupied, zone=15.0, setpoint=21.0, outdoor=5.0, rates=rates)
    assert (occupied - start) / 60.0 == pytest.approx(51.08, abs=0.5)


def test_a_warmer_morning_starts_later_and_a_zone_at_its_setpoint_at_occupancy() -> None:
    rates = ZoneRates(Rates(0.25, 0.01, 40), Rates(0.2, 0.0, 40))
    cold = lead_time(15.0, 21.0, -5.0, rates)
    mild = lead_time(15.0, 21.0, 10.0, rates)
    assert cold > mild > 0
    assert lead_time(21.1, 21.0, 5.0, rates) == 0.0
    assert lead_time(25.0, 22.0, 30.0, rates) == pytest.approx(15.0)  # cooling 3 °C at 0.2 °C/min
    assert lead_time(10.0, 21.0, -30.0, rates) == 240.0  # the model never gets there: the longest lead


def test_free_floating_or_sparse_history_keeps_the_default_rates() -> None:
    rates = learn([(T0, 20.0), (T0 + 60, 20.1)], setpoint=[(T0, 21.0)], outdoor=[(T0, 5.0)])
    assert rates.warm_up.samples == 0 and rates.warm_up.a == 0.1
    assert lead_time(16.0, 21.0, 5.0, rates) == pytest.approx(50.0)
