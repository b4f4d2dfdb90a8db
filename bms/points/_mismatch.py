"""Command feedback: does a device hold what it was commanded?

A supervisory controller sends a command and trusts nothing: after a
settling time it compares what the device reports with what it was sent.
:class:`CommandCheck` keeps, per commanded device point, when the command
was last sent; :meth:`CommandCheck.due` gives the points whose settling
time has passed. :func:`agrees` decides whether a reported value is the
commanded one, within the point's resolution: a float32 register, a Modbus
integer register with a scale (24.53 written to a register of 0.1 reads
back 24.5), never a looser tolerance than that -- a device that clamps
24 to 22 disagrees.

:class:`PointsSection` is the ``[points]`` settings section.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec
from msgspec import Meta

from bms.config import PointSpec
from bms.messages import Value

COMMAND_SETTLE = 30.0
"""Seconds a device has to report its command before a disagreement is flagged."""

_RELATIVE = 1e-6  # a float32 holds about 7 significant digits
_INTEGER_TYPES = ("int16", "uint16", "int32", "uint32", "int64", "uint64")


class PointsSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[points]``: how long a device has to report what it was commanded (``command mismatch`` after)."""

    command_settle: Annotated[float, Meta(gt=0, le=86_400)] = COMMAND_SETTLE


def resolution(spec: PointSpec) -> float:
    """The smallest step the device can hold for this point (0.0: exact, as far as a float32 goes)."""
    binding = spec.modbus
    if binding is not None and binding.type in _INTEGER_TYPES and binding.bit is None:
        return abs(binding.scale)
    return 0.0


def agrees(commanded: Value, reported: Value, step: float = 0.0) -> bool:
    """``reported`` is ``commanded`` as the device can hold it (a step of ``step``, float32 rounding)."""
    numbers = (bool, int, float)
    if not (isinstance(commanded, numbers) and isinstance(reported, numbers)):
        return commanded == reported
    if isinstance(commanded, bool) or isinstance(reported, bool):  # a binary point: active or not
        return bool(commanded) == bool(reported)
    a, b = float(commanded), float(reported)
    if math.isnan(a) or math.isnan(b):
        return False
    tolerance = max(step / 2.0, _RELATIVE * max(1.0, abs(a))) * (1 + 1e-9)
    return abs(a - b) <= tolerance


class CommandCheck:
    """When each commanded device point was last sent its command; which are due for comparison."""

    def __init__(self, settle: float = COMMAND_SETTLE) -> None:
        if not settle > 0:
            raise ValueError(f"command settle time must be > 0 s, got {settle}")
        self.settle = settle
        self._sent: dict[str, float] = {}

    def sent(self, point_id: str, at: float) -> None:
        """A command was sent to the device now: compare again ``settle`` seconds from ``at``."""
        self._sent[point_id] = at

    def forget(self, point_id: str) -> None:
        self._sent.pop(point_id, None)

    def sent_at(self, point_id: str) -> float | None:
        return self._sent.get(point_id)

    def due(self, now: float) -> list[tuple[str, float]]:
        """(point id, sent at) of the commands whose settling time has passed."""
        limit = now - self.settle
        return [(point_id, at) for point_id, at in self._sent.items() if at <= limit]

    def __contains__(self, point_id: object) -> bool:
        return point_id in self._sent

    def __len__(self) -> int:
        return len(self._sent)
