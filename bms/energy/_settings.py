"""``[energy]``: the meters and their hierarchy, the outdoor-air point, the tariff, the demand point."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from bms.energy._tariff import Tariff

Level = Literal["site", "building", "equipment", "end_use"]


class MeterSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A meter: ``point`` is a power point (kW, tag ``power``) or an energy counter (kWh, tag ``energy``);
    ``kind`` says which when the tags do not. ``parent`` is another meter (a sub-meter's main meter)."""

    id: str
    point: str
    name: str = ""
    kind: Literal["power", "energy", ""] = ""
    parent: str | None = None
    level: Level = "building"
    end_use: str = ""  # lighting, hvac, plug loads...
    rollover: Annotated[float, Meta(gt=0)] | None = None  # a counter's wrap value (e.g. 999999.9)


class EnergySection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[energy]`` in bms.toml. Without ``meters``, every device with a kW power point (tags
    ``power`` + ``sensor``) or else an energy counter (tags ``energy`` + ``totalizer``) is a building meter."""

    meters: tuple[MeterSpec, ...] = ()
    oat: str = ""  # outdoor-air temperature point; empty: the point tagged outside, air, temp, sensor
    demand_point: str = "energy/projected_kw"  # virtual point given the projected 15-minute demand (if it exists)
    demand_meter: str = ""  # whose demand is projected (default: the first top-level meter)
    max_gap: Annotated[float, Meta(gt=0)] = 900.0  # seconds between readings beyond which nothing is integrated
    tick: Annotated[float, Meta(gt=0, le=300)] = 5.0  # seconds between saves to energy.db and projections
    backfill_days: Annotated[float, Meta(ge=0, le=3650)] = 400.0  # history read on the first start
    night: tuple[int, int] = (0, 5)  # local hours of the base load (from, to)
    balance_step: Annotated[float, Meta(gt=0, le=5)] = 0.5  # degrees between balance temperatures searched
    # a demo's first start: this many days of generated weather-driven history for the main power meter
    # and the outdoor-air point (as `bms sim history`), given to history in the background; 0: never
    generate_days: Annotated[float, Meta(ge=0, le=3650)] = 0.0
    tariff: Tariff = Tariff()

    def config_problems(self) -> list[tuple[str, str]]:
        """What spans fields, for the config loader (`bms config check` names each key); the tariff's own."""
        return [(key, message) for key, _, message in (p.partition(": ") for p in self._own())]

    def problems(self) -> list[str]:
        return [f"tariff.{p}" for p in self.tariff.problems()] + self._own()

    def _own(self) -> list[str]:
        out: list[str] = []
        ids = [m.id for m in self.meters]
        out += [f"meters: {i!r} twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
        lo, hi = self.night
        if not 0 <= lo < hi <= 24:
            out.append(f"night: {list(self.night)} is not [from, to) hours within 0..24")
        return out
