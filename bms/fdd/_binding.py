"""Binding: which point plays which role of an air handler, found by the model's tags or given explicitly.

A role (``sat``, ``mat``...) is matched by a set of markers (Haystack style): the first point under
the equipment (by id) whose tags hold every marker of one of the role's tag sets. ``[fdd.bindings.AHU]
ROLE = "point"`` overrides or adds a role. :func:`bind` tells, for each air handler (an Equip tagged
``ahu``, or one named in the explicit bindings), the bound roles, the missing ones and the rules that
cannot run because of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from bms.fdd._g36 import RULES, STATE_ROLES
from bms.model import Node

ROLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "sat": (("discharge", "air", "temp", "sensor"), ("supply", "air", "temp", "sensor")),
    "mat": (("mixed", "air", "temp", "sensor"),),
    "rat": (("return", "air", "temp", "sensor"),),
    "oat": (("outside", "air", "temp", "sensor"),),
    "sat_sp": (("discharge", "air", "temp", "sp"), ("supply", "air", "temp", "sp")),
    "fan_speed": (("discharge", "fan", "speed"), ("supply", "fan", "speed")),
    "fan_status": (("discharge", "fan", "run", "sensor"), ("supply", "fan", "run", "sensor")),
    "oa_damper": (("outside", "damper"),),
    "heating": (("heat", "valve"),),
    "cooling": (("cool", "valve"),),
    "dsp": (("discharge", "air", "pressure", "sensor"), ("duct", "pressure", "sensor")),
    "dsp_sp": (("discharge", "air", "pressure", "sp"), ("duct", "pressure", "sp")),
    "erv_lat": (("heatRecovery", "leaving", "air", "temp", "sensor"),),
}
"""Each role's tag sets: a point matches when it carries every marker of one of them."""

DESCRIPTIONS = {
    "sat": "supply air temperature", "mat": "mixed air temperature", "rat": "return air temperature",
    "oat": "outdoor air temperature", "sat_sp": "supply air temperature setpoint", "fan_speed": "supply fan speed",
    "fan_status": "supply fan status", "oa_damper": "outdoor-air damper", "heating": "heating valve",
    "cooling": "cooling valve", "dsp": "duct static pressure", "dsp_sp": "duct static pressure setpoint",
    "erv_lat": "energy recovery leaving air temperature",
}


class RuleBlock(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A rule that cannot run on an equipment, and why."""

    rule: str
    missing: tuple[str, ...] = ()
    reason: str = ""


class EquipBinding(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One air handler: its bound roles (role -> point id), missing roles, rules that run and those that cannot."""

    equip: str
    name: str = ""
    roles: dict[str, str] = {}
    missing: tuple[str, ...] = ()
    runnable: tuple[str, ...] = ()
    blocked: tuple[RuleBlock, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class _Tree:
    nodes: dict[str, Node]
    children: dict[str, list[str]] = field(default_factory=dict)

    def below(self, root: str) -> list[Node]:
        found, todo = [], [root]
        while todo:
            for child in self.children.get(todo.pop(), ()):
                found.append(self.nodes[child])
                todo.append(child)
        return sorted(found, key=lambda n: n.id)


def match_role(node: Node, role: str) -> bool:
    tags = set(node.tags)
    return any(tags.issuperset(wanted) for wanted in ROLES[role])


def bind(nodes: Sequence[Node], explicit: Mapping[str, Mapping[str, str]] | None = None,
         disabled: frozenset[str] = frozenset(), under: str | None = None) -> list[EquipBinding]:
    """The air handlers of ``nodes`` (under ``under`` when given) with their roles bound."""
    explicit = explicit or {}
    tree = _Tree({n.id: n for n in nodes})
    for n in nodes:
        if n.parent is not None:
            tree.children.setdefault(n.parent, []).append(n.id)
    scope = {under, *(n.id for n in tree.below(under))} if under is not None else None
    equips = [n for n in nodes if n.type == "Equip" and ("ahu" in n.tags or n.id in explicit)
              and (scope is None or n.id in scope)]
    found: list[EquipBinding] = []
    for equip in sorted(equips, key=lambda n: n.id):
        points = [n for n in tree.below(equip.id) if n.type in ("Point", "VirtualPoint")]
        roles: dict[str, str] = {}
        notes: list[str] = []
        for role in ROLES:
            matches = [p.id for p in points if match_role(p, role)]
            if matches:
                roles[role] = matches[0]
                if len(matches) > 1:
                    notes.append(f"{role}: {len(matches)} points match ({', '.join(matches)}); using {matches[0]}")
        for role, point in explicit.get(equip.id, {}).items():
            if role not in ROLES:
                notes.append(f"{role}: not a role (roles: {', '.join(ROLES)})")
            elif point not in tree.nodes:
                notes.append(f"{role}: no point {point!r}")
            else:
                roles[role] = point
        found.append(_verdict(equip, roles, notes, disabled))
    return found


def _verdict(equip: Node, roles: dict[str, str], notes: list[str], disabled: frozenset[str]) -> EquipBinding:
    have = set(roles)
    runnable: list[str] = []
    blocked: list[RuleBlock] = []
    missing: set[str] = set()
    state_missing = tuple(r for r in STATE_ROLES if r not in have)
    for rule in RULES:
        lacking = tuple(r for r in rule.roles if r not in have)
        if rule.id in disabled:
            blocked.append(RuleBlock(rule=rule.id, reason="disabled in conf/fdd"))
        elif rule.optional and lacking:
            blocked.append(RuleBlock(rule=rule.id, missing=lacking, reason="not applicable: no energy recovery"))
        elif lacking or state_missing:
            need = tuple(dict.fromkeys((*lacking, *state_missing)))
            missing.update(need)
            blocked.append(RuleBlock(rule=rule.id, missing=need,
                                     reason="missing " + ", ".join(DESCRIPTIONS.get(r, r) for r in need)))
        else:
            runnable.append(rule.id)
    ordered = tuple(r for r in ROLES if r in missing)
    return EquipBinding(equip=equip.id, name=equip.name, roles=roles, missing=ordered, runnable=tuple(runnable),
                        blocked=tuple(blocked), notes=tuple(notes))


__all__ = ["DESCRIPTIONS", "ROLES", "EquipBinding", "RuleBlock", "bind", "match_role"]
