"""``[logic]``: where the programs are, the keys bundles must be signed with, the sandbox's defaults."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from bms.logic._sandbox import DEFAULT_BUDGET, DEFAULT_MAX_MEMORY


class LogicSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[logic]`` in bms.toml.

    ``programs`` is a directory of program files (``*.toml``; a ``bundle.toml`` there gives the
    constraints), relative to the scenario file's folder. Unset: ``logic`` beside the scenario file,
    else ``../logic`` (the demo's ``conf/scenarios/demo.toml`` finds ``conf/logic``). A directory
    that does not exist means no programs.
    """

    programs: str = ""
    trusted_keys: tuple[str, ...] = ()  # Ed25519 public keys (base64) whose bundles may be deployed
    budget: Annotated[int, Meta(ge=1000)] = DEFAULT_BUDGET  # Lua instructions per run, unless a program says
    max_memory: Annotated[int, Meta(ge=65_536)] = DEFAULT_MAX_MEMORY  # bytes per program
    fault_limit: Annotated[int, Meta(ge=1, le=100)] = 3  # budget or memory faults in a row that disable a program
    tick: Annotated[float, Meta(gt=0, le=60)] = 1.0  # seconds between looks at the periodic programs
    trace_runs: Annotated[int, Meta(ge=1, le=10_000)] = 50  # run traces kept per program (bms logic trace)
