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
                                                    ProgramTraces, DeployBundle, RollbackBundle, ListVersions)

__all__ = [
    "LOGIC_MESSAGES",
    "BundleVersion",
    "DeployBundle",
    "DisableProgram",
    "EnableProgram",
    "GetProgram",
    "ListPrograms",
    "ListVersions",
    "ProgramTraces",
    "ProgramView",
    "RollbackBundle",
]
