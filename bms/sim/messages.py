"""The asks of the simulators' components (``sim-bacnet``): fault injection into the demo's air handler."""

from __future__ import annotations

import msgspec

from bms.messages import Message


class InjectSimFault(Message, frozen=True, kw_only=True):
    """Give a simulated air handler (by device id) a fault: damper-stuck, cooling-valve-leak, mat-drift, clear."""

    device: str
    fault: str
    user: str = ""


class SimFaults(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The faults a simulated air handler now has."""

    device: str
    faults: tuple[str, ...] = ()


SIM_MESSAGES: tuple[type[msgspec.Struct], ...] = (InjectSimFault,)

__all__ = ["SIM_MESSAGES", "InjectSimFault", "SimFaults"]
