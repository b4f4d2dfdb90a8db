"""Fault detection and diagnostics: rule library, ASHRAE Guideline 36 AHU fault conditions, binding by tags.

* :data:`RULES` -- G36 fault conditions FC1-FC15 (FC16 where the unit has energy recovery), each with
  the roles it needs, its operating states, its equation and likely causes; :func:`operating_state`
  (OS1-OS5).
* :func:`evaluate` -- the rules over whole series (numpy arrays); :class:`LiveUnit` -- the same sample
  by sample, for the engine; persistence by the moving average over the window, reset by a state change.
* :mod:`generic rule types <bms.fdd._generic>` -- threshold, stuck, short-cycling, schedule deviation,
  simultaneous heating and cooling, setpoint not met, demand-sensitive peak windows.
* :func:`bind` -- roles found under each AHU by tags (or given explicitly), missing roles, blocked rules.
* :func:`load_library` -- ``conf/fdd/*.toml`` checked, every problem at once.
* :class:`FaultStore` -- fdd.db (loaded on first use).

Plain functions and classes, no threads: the ``fdd`` component runs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bms.fdd._binding import DESCRIPTIONS, ROLES, EquipBinding, RuleBlock, bind, match_role
from bms.fdd._evaluate import BatchResult, LiveUnit, Transition, evaluate, explain, persist
from bms.fdd._g36 import OFF, OS1, OS2, OS3, OS4, OS5, RULE_IDS, RULES, STATE_NAMES, Rule, operating_state, rule
from bms.fdd._generic import GenericRule, run_generic
from bms.fdd._params import G36Params, Library, RuleSwitch, load_library

if TYPE_CHECKING:
    from bms.fdd._store import FaultStore


def __getattr__(name: str) -> Any:
    if name == "FaultStore":
        return importlib.import_module("bms.fdd._store").FaultStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DESCRIPTIONS", "OFF", "OS1", "OS2", "OS3", "OS4", "OS5", "ROLES", "RULES", "RULE_IDS", "STATE_NAMES",
    "BatchResult", "EquipBinding", "FaultStore", "G36Params", "GenericRule", "Library", "LiveUnit", "Rule",
    "RuleBlock", "RuleSwitch", "Transition", "bind", "evaluate", "explain", "load_library", "match_role",
    "operating_state", "persist", "rule", "run_generic",
]
