"""The asks of the ``logic`` service (the engine component) and what it answers."""

from __future__ import annotations

import msgspec

from bms.messages import Message


class ProgramView(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A program as an operator sees it.

    ``state``: ``running``; ``disabled`` (an operator's disable, kept across restarts) or
    ``faulted`` (its budget or memory exceeded ``fault_limit`` runs in a row; ``reason`` says so).
    While not running, its outputs hold their last value.
    """

    name: str
    description: str = ""
    state: str = "running"
    reason: str = ""
    interval: float = 0.0
    on_change: tuple[str, ...] = ()
    priority: int = 10
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    block_types: tuple[str, ...] = ()
    hand_written: bool = False
    source: str = ""
    runs: int = 0
    errors: int = 0
    last_run: float | None = None
    last_error: str = ""


class BundleVersion(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A deployed bundle: ``active`` the one running; ``status`` good, or failed (it did not start: rolled back)."""

    seq: int
    version: str
    key_id: str
    deployed_at: float
    user: str = ""
    status: str = "good"
    active: bool = False
    detail: str = ""


class EngineStatus(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The engine as a whole: its scheduler (``running``, or ``stopped`` by an operator: no program
    runs, outputs hold), what it runs (the active bundle's version, or the configured directory),
    its health and its programs."""

    scheduler: str = "running"
    stopped_by: str = ""
    bundle: str = ""
    """The active bundle's version; "" when the programs come from the directory."""
    source: str = ""
    health: str = ""
    reason: str = ""
    programs: list[ProgramView] = []


class LogicEvent(Message, frozen=True, kw_only=True):
    """One thing the engine did, for the live stream (``/api/logic/stream``).

    ``kind``: ``run`` (a good run: ``duration``), ``error`` (a failed run: ``error``, ``fault``),
    ``write`` (a command to a point: ``point``, ``value``, ``priority``; None releases), ``disabled``
    (a program faulted out), or ``engine`` (started, stopped, reloaded: ``detail``).
    """

    kind: str
    at: float
    program: str = ""
    duration: float = 0.0
    error: str = ""
    fault: str = ""
    point: str = ""
    value: float | int | bool | None = None
    priority: int = 0
    detail: str = ""


class StartLogic(Message, frozen=True):
    """Run the programs again (execution was stopped)."""

    user: str = ""


class StopLogic(Message, frozen=True):
    """Stop running every program (kept across restarts); outputs hold their last value."""

    user: str = ""


class ReloadLogic(Message, frozen=True):
    """Read the program directory (or the active bundle) again and run what it holds now."""

    user: str = ""


class GetEngineStatus(Message, frozen=True):
    pass


class DeployBundle(Message, frozen=True):
    """Verify (trusted keys), validate, dry-run, then run this bundle's programs instead of the running set."""

    data: bytes
    user: str = ""


class RollbackBundle(Message, frozen=True):
    """Back to the bundle deployed before the active one."""

    user: str = ""


class ListVersions(Message, frozen=True):
    pass


class ListPrograms(Message, frozen=True):
    pass


class GetProgram(Message, frozen=True):
    name: str


class EnableProgram(Message, frozen=True):
    """Run a disabled or faulted program again (its fault count starts over)."""

    name: str
    user: str = ""


class DisableProgram(Message, frozen=True):
    """Stop running a program; its outputs hold their last value."""

    name: str
    user: str = ""


class ProgramTraces(Message, frozen=True):
    """The last runs of a program (oldest first), at most ``limit``."""

    name: str
    limit: int = 10


LOGIC_MESSAGES: tuple[type[msgspec.Struct], ...] = (ListPrograms, GetProgram, EnableProgram, DisableProgram,
                                                    ProgramTraces, DeployBundle, RollbackBundle, ListVersions,
                                                    StartLogic, StopLogic, ReloadLogic, GetEngineStatus, LogicEvent)

_event_decoder = msgspec.json.Decoder(LogicEvent)


def decode_logic_event(text: str | bytes) -> LogicEvent:
    """One event of the live logic stream (JSON)."""
    return _event_decoder.decode(text)

__all__ = [
    "LOGIC_MESSAGES",
    "BundleVersion",
    "DeployBundle",
    "DisableProgram",
    "EnableProgram",
    "EngineStatus",
    "GetEngineStatus",
    "GetProgram",
    "ListPrograms",
    "ListVersions",
    "LogicEvent",
    "ProgramTraces",
    "ProgramView",
    "ReloadLogic",
    "RollbackBundle",
    "StartLogic",
    "StopLogic",
    "decode_logic_event",
]
