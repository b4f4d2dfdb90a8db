"""The physical models behind simulated devices, stepped with explicit time.

A model is a plain object: ``step(now)`` moves it to epoch time ``now``,
``values()`` gives its outputs by point key, ``set_input(key, value)`` feeds
it what a client wrote to a point named in ``inputs``. Noise is a pure
function of (seed, whole second), so a test stepping the same times sees
the same values.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

ModelValue = float | int | bool


class DeviceModel(Protocol):
    """What the simulator needs of a model."""

    @property
    def inputs(self) -> frozenset[str]: ...

    def set_input(self, key: str, value: ModelValue) -> None: ...

    def step(self, now: float) -> None: ...

    def values(self) -> dict[str, ModelValue]: ...


def load_fraction(hour: float, weekend: bool = False) -> float:
    """Share of the building's peak load at ``hour`` (0..24): an office day.

    Night base, morning ramp around 07:00, a small lunch dip, evening ramp
    down around 18:30; a quarter of the weekday swing at weekends.
    """
    day = 0.5 * (math.tanh((hour - 7.0) / 0.8) - math.tanh((hour - 18.5) / 1.2))
    day -= 0.08 * math.exp(-(((hour - 12.5) / 0.7) ** 2))
    return max(0.0, day * (0.25 if weekend else 1.0))


class PowerMeter:
    """A 3-phase meter on an office incomer.

    kW follows :func:`load_fraction` between ``base_kw`` and ``peak_kw`` with
    ``noise`` (relative) jitter, capped by the writable ``demand_limit``
    (load shedding, which raises the over-demand status bit); kWh integrate
    kW (trapezoids); voltage sags a little with load, power factor rises
    with it, and phase currents follow from P = 3 V I PF with a small
    imbalance.
    """

    inputs = frozenset({"demand_limit"})

    def __init__(
        self,
        *,
        peak_kw: float = 180.0,
        base_kw: float = 40.0,
        energy_kwh: float = 125_000.0,
        demand_limit: float = 250.0,
        utc_offset_h: float = 0.0,
        noise: float = 0.02,
        seed: int = 1,
    ) -> None:
        self.peak_kw = peak_kw
        self.base_kw = base_kw
        self.energy_kwh = energy_kwh
        self.demand_limit = demand_limit
        self.utc_offset_h = utc_offset_h
        self.noise = noise
        self.seed = seed
        self.kw = base_kw
        self._t: float | None = None
        self._out: dict[str, ModelValue] = {}

    def set_input(self, key: str, value: ModelValue) -> None:
        if key == "demand_limit" and not isinstance(value, bool):
            self.demand_limit = float(value)

    def _rng(self, now: float) -> random.Random:
        return random.Random(self.seed * 1_000_003 + math.floor(now))

    def step(self, now: float) -> None:
        local = now + self.utc_offset_h * 3600.0
        hour = (local % 86400.0) / 3600.0
        weekend = math.floor(local / 86400.0 + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        rng = self._rng(now)
        share = load_fraction(hour, weekend)
        demand = (self.base_kw + (self.peak_kw - self.base_kw) * share) * (1.0 + self.noise * rng.gauss(0.0, 1.0))
        demand = max(0.0, demand)
        shed = self.demand_limit > 0 and demand > self.demand_limit
        kw = min(demand, self.demand_limit) if self.demand_limit > 0 else demand
        if self._t is not None and now > self._t:
            self.energy_kwh += (self.kw + kw) / 2.0 * (now - self._t) / 3600.0
        self._t, self.kw = now, kw
        volts = [230.0 + d - 3.0 * share + 0.4 * rng.gauss(0.0, 1.0) for d in (0.8, -0.5, 0.2)]
        pf = min(0.99, max(0.80, 0.90 + 0.06 * share + 0.005 * rng.gauss(0.0, 1.0)))
        amps = [kw / 3.0 * k * 1000.0 / (v * pf) for k, v in zip((1.04, 0.97, 0.99), volts, strict=True)]
        self._out = {
            "kw_total": kw,
            "kwh_import": self.energy_kwh,
            "voltage_l1": volts[0],
            "voltage_l2": volts[1],
            "voltage_l3": volts[2],
            "current_l1": amps[0],
            "current_l2": amps[1],
            "current_l3": amps[2],
            "pf_total": pf,
            "frequency": 50.0 + 0.02 * rng.gauss(0.0, 1.0),
            "status_ok": True,
            "status_phase_loss": False,
            "status_over_demand": shed,
            "status_reverse_power": False,
        }

    def values(self) -> dict[str, ModelValue]:
        """Outputs of the last step (empty before the first)."""
        return dict(self._out)
