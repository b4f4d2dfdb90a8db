"""A small thermal model of one air system: an air handler and the VAV boxes it serves.

Pure and deterministic: :meth:`ThermalModel.step` advances it by ``dt``
seconds of simulated time (in sub-steps of at most :data:`MAX_SUBSTEP`), with
no clock, no randomness and no I/O, so a test stepping the same times sees
the same values.

Equipment exposes its points by the keys the bundled profiles use
(``conf/profiles/ahu.toml`` and ``vav.toml``): ``inputs`` are the commands
the simulator feeds in from the BACnet objects, ``values()`` the sensors it
writes back.

Physics, roughly: outdoor air follows a daily cosine; mixed air blends
return and outdoor air by the outdoor-air damper; the heating coil raises
the supply air by up to ``heat_delta`` K at 100 % valve and the cooling coil
pulls it down by up to ``coil_delta`` K (fan heat adds a little); duct static
pressure goes with the square of the fan speed; each zone gains heat from people and sun and through its
envelope and is cooled by its supply air in proportion to airflow, with a
time constant of minutes; return air is the flow-weighted mean of the zones.

Faults an air handler can be given (:data:`AHU_FAULTS`, :meth:`AirHandler.inject`): ``damper-stuck``
(the outdoor-air damper stays fully open whatever its command), ``cooling-valve-leak`` (the cooling
valve passes at least 30 % when commanded shut), ``mat-drift`` (the mixed-air sensor drifts up by
1 K per second to +12 K); ``clear`` ends them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import ClassVar

ModelValue = float | int | bool
MAX_SUBSTEP = 5.0
DAY = 86_400.0
AHU_FAULTS = ("damper-stuck", "cooling-valve-leak", "mat-drift")
LEAK = 30.0  # % the leaking cooling valve passes
DRIFT_RATE, DRIFT_MAX = 1.0, 12.0  # K/s and K of the drifting mixed-air sensor
DESIGN_DSP = 700.0  # Pa of duct static pressure at full fan speed


def _lag(value: float, target: float, dt: float, tau: float) -> float:
    """First-order approach of ``value`` to ``target`` with time constant ``tau`` (exact for a constant target)."""
    return target + (value - target) * math.exp(-dt / tau)


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return min(high, max(low, value))


class Equipment:
    """Points of one piece of equipment: command inputs in, sensor values out."""

    inputs: ClassVar[frozenset[str]] = frozenset()

    def set_input(self, key: str, value: ModelValue) -> None:
        """Feed a command (by point key) into the model."""
        if key not in self.inputs:
            raise KeyError(f"{type(self).__name__} has no input {key!r}")
        setattr(self, key, float(value) if not isinstance(value, bool) else value)

    def values(self) -> dict[str, ModelValue]:
        """Sensor values by point key."""
        raise NotImplementedError


class AirHandler(Equipment):
    """A single-duct air handler with economiser damper and chilled-water coil."""

    inputs = frozenset({"fan_cmd", "fan_speed", "oa_damper", "clg_valve", "htg_valve", "sat_sp", "dsp_sp"})

    def __init__(self, *, design_flow: float = 2000.0, coil_delta: float = 12.0, heat_delta: float = 20.0,
                 rat: float = 24.0) -> None:
        self.design_flow = design_flow  # L/s at 100 % fan speed
        self.coil_delta = coil_delta  # K of cooling at 100 % valve
        self.heat_delta = heat_delta  # K of heating at 100 % valve
        self.fan_cmd: bool = True
        self.fan_speed = 60.0  # %
        self.oa_damper = 20.0  # %
        self.clg_valve = 50.0  # %
        self.htg_valve = 0.0  # %
        self.sat_sp = 13.0  # °C, a setpoint for logic and FDD; the model does not control to it
        self.dsp_sp = 250.0  # Pa, likewise
        self.fan_failed = False  # fault injection: the fan does not run when commanded
        self.faults: set[str] = set()  # AHU_FAULTS injected
        self.mat_offset = 0.0  # K the mixed-air sensor reads high (mat-drift)
        self.oat = 24.0
        self.rat = rat
        self.mat = rat
        self.sat = rat
        self.sa_flow = 0.0
        self.dsp = 0.0

    def inject(self, fault: str) -> None:
        """Give the unit one of :data:`AHU_FAULTS`, or ``clear`` them all."""
        if fault == "clear":
            self.faults.clear()
            self.mat_offset = 0.0
        elif fault in AHU_FAULTS:
            self.faults.add(fault)
        else:
            raise ValueError(f"unknown fault {fault!r} (one of {', '.join((*AHU_FAULTS, 'clear'))})")

    @property
    def damper(self) -> float:
        """The damper's real position (%)."""
        return 100.0 if "damper-stuck" in self.faults else _clamp(self.oa_damper)

    @property
    def cooling(self) -> float:
        """What the cooling valve really passes (%)."""
        return max(_clamp(self.clg_valve), LEAK) if "cooling-valve-leak" in self.faults else _clamp(self.clg_valve)

    @property
    def running(self) -> bool:
        return bool(self.fan_cmd) and not self.fan_failed and self.fan_speed > 0.0

    @property
    def flow_fraction(self) -> float:
        return _clamp(self.fan_speed) / 100.0 if self.running else 0.0

    def values(self) -> dict[str, ModelValue]:
        return {
            "oat": round(self.oat, 3), "mat": round(self.mat + self.mat_offset, 3), "rat": round(self.rat, 3),
            "sat": round(self.sat, 3), "sa_flow": round(self.sa_flow, 1), "fan_status": self.running,
            "dsp": round(self.dsp, 1),
        }


class VavBox(Equipment):
    """A pressure-independent VAV box serving one zone (no reheat)."""

    inputs = frozenset({"damper", "zone_sp"})

    def __init__(
        self, *, max_flow: float = 400.0, zone_temp: float = 24.0, load: float = 1.0, envelope_tau: float = 7200.0,
        air_tau: float = 600.0,
    ) -> None:
        self.max_flow = max_flow  # L/s at 100 % damper and full fan
        self.load = load  # K/h of internal and solar gain
        self.envelope_tau = envelope_tau  # s, zone to outdoor
        self.air_tau = air_tau  # s, zone to supply air at full flow
        self.damper = 50.0  # %
        self.zone_sp = 22.0  # °C, for logic and FDD
        self.zone_temp = zone_temp
        self.airflow = 0.0
        self.dat = zone_temp
        self.ahu: AirHandler | None = None

    def values(self) -> dict[str, ModelValue]:
        return {"zone_temp": round(self.zone_temp, 3), "airflow": round(self.airflow, 1), "dat": round(self.dat, 3)}


class ThermalModel:
    """One outdoor climate, air handlers and the VAV boxes they serve."""

    def __init__(self, *, outdoor_mean: float = 24.0, outdoor_swing: float = 6.0, start_hour: float = 12.0) -> None:
        self.outdoor_mean = outdoor_mean
        self.outdoor_swing = outdoor_swing
        self.time = start_hour * 3600.0  # simulated seconds since midnight of day 0
        self.ahus: dict[str, AirHandler] = {}
        self.vavs: dict[str, VavBox] = {}

    def add_ahu(self, name: str, **kwargs: float) -> AirHandler:
        ahu = self.ahus[name] = AirHandler(**kwargs)
        ahu.oat = self.outdoor(self.time)
        for vav in self.vavs.values():
            vav.ahu = vav.ahu or ahu
        return ahu

    def add_vav(self, name: str, ahu: str | None = None, **kwargs: float) -> VavBox:
        vav = self.vavs[name] = VavBox(**kwargs)
        vav.ahu = self.ahus[ahu] if ahu is not None else next(iter(self.ahus.values()), None)
        return vav

    def equipment(self) -> Iterator[tuple[str, Equipment]]:
        yield from self.ahus.items()
        yield from self.vavs.items()

    def outdoor(self, t: float) -> float:
        """Outdoor air temperature at ``t``: warmest at 15:00."""
        return self.outdoor_mean + self.outdoor_swing * math.cos(2 * math.pi * ((t % DAY) / DAY - 15 / 24))

    def step(self, dt: float) -> None:
        """Advance the model by ``dt`` seconds."""
        if dt < 0:
            raise ValueError(f"dt must be >= 0, got {dt}")
        remaining = dt
        while remaining > 0:
            h = min(MAX_SUBSTEP, remaining)
            self._substep(h)
            remaining -= h

    def _substep(self, dt: float) -> None:
        self.time += dt
        oat = self.outdoor(self.time)
        for ahu in self.ahus.values():
            self._step_ahu(ahu, oat, dt)
        for vav in self.vavs.values():
            self._step_vav(vav, oat, dt)
        for ahu in self.ahus.values():
            served = [v for v in self.vavs.values() if v.ahu is ahu]
            flow = sum(v.airflow for v in served)
            if served and flow > 1.0:
                mean = sum(v.zone_temp * v.airflow for v in served) / flow
                ahu.rat = _lag(ahu.rat, mean + 0.5, dt, 120.0)
            ahu.sa_flow = flow if served else ahu.design_flow * ahu.flow_fraction

    def _step_ahu(self, ahu: AirHandler, oat: float, dt: float) -> None:
        ahu.oat = oat
        if "mat-drift" in ahu.faults:
            ahu.mat_offset = min(DRIFT_MAX, ahu.mat_offset + DRIFT_RATE * dt)
        ahu.dsp = _lag(ahu.dsp, DESIGN_DSP * ahu.flow_fraction ** 2, dt, 5.0)
        if ahu.running:
            d = ahu.damper / 100.0
            ahu.mat = _lag(ahu.mat, ahu.rat + d * (oat - ahu.rat), dt, 30.0)
            target = (ahu.mat + _clamp(ahu.htg_valve) / 100.0 * ahu.heat_delta
                      - ahu.cooling / 100.0 * ahu.coil_delta + ahu.flow_fraction)
            ahu.sat = _lag(ahu.sat, target, dt, 60.0)
        else:
            ahu.mat = _lag(ahu.mat, ahu.rat, dt, 300.0)
            ahu.sat = _lag(ahu.sat, ahu.rat, dt, 600.0)

    def _step_vav(self, vav: VavBox, oat: float, dt: float) -> None:
        fraction = vav.ahu.flow_fraction if vav.ahu is not None else 1.0
        supply = vav.ahu.sat if vav.ahu is not None else 13.0
        vav.airflow = _lag(vav.airflow, vav.max_flow * _clamp(vav.damper) / 100.0 * fraction, dt, 10.0)
        vav.dat = _lag(vav.dat, supply if vav.airflow > 1.0 else vav.zone_temp, dt, 20.0)
        share = vav.airflow / vav.max_flow if vav.max_flow > 0 else 0.0
        rate = vav.load / 3600.0 + (oat - vav.zone_temp) / vav.envelope_tau + share * (vav.dat - vav.zone_temp) / vav.air_tau
        vav.zone_temp += rate * dt
