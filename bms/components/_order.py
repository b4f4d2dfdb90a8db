"""The start order of components: a topological sort of ``requires`` and ``after``.

Pure: a missing requirement or a cycle is a :class:`Blocked` entry with one
line naming it, and the components that do not depend on it still start.
Ties keep the given order, so the order is the same on every start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bms.components._descriptor import ANY_OTHER, Component


@dataclass(frozen=True)
class Blocked:
    name: str
    reason: str


@dataclass(frozen=True)
class StartPlan:
    order: tuple[Component, ...]
    blocked: tuple[Blocked, ...]

    def problems(self) -> list[str]:
        return [f"component {b.name}: {b.reason}" for b in self.blocked]


def start_plan(components: Sequence[Component], unavailable: Sequence[str] = ()) -> StartPlan:
    """The order to start ``components`` in, and those that cannot start.

    ``unavailable`` names components known to be broken (they failed to
    load): a component that requires one is blocked with that reason.
    """
    present = {c.name: c for c in components}
    broken = set(unavailable)
    blocked: dict[str, str] = {}

    # requirements that are missing or broken block a component, and whatever requires it
    changed = True
    while changed:
        changed = False
        for c in components:
            if c.name in blocked:
                continue
            for need in c.requires:
                if need in broken:
                    blocked[c.name] = f"requires {need!r}, which could not be loaded"
                elif need not in present:
                    blocked[c.name] = f"requires {need!r}, which is not installed"
                elif need in blocked:
                    blocked[c.name] = f"requires {need!r}, which cannot start"
                else:
                    continue
                changed = True
                break

    live = [c for c in components if c.name not in blocked]
    names = {c.name for c in live}
    late = {c.name for c in live if ANY_OTHER in c.after}
    edges: dict[str, set[str]] = {c.name: set() for c in live}  # name -> names that must start first
    for c in live:
        before = set(c.requires) | {a for a in c.after if a in names}
        if ANY_OTHER in c.after:
            before |= names - late
        edges[c.name] = before - {c.name}

    order: list[Component] = []
    done: set[str] = set()
    pending = list(live)
    while pending:
        ready = [c for c in pending if edges[c.name] <= done]
        if not ready:
            break
        for c in ready:
            order.append(c)
            done.add(c.name)
        pending = [c for c in pending if c.name not in done]

    if pending:  # what is left waits on a cycle (or on something that waits on one)
        stuck = {c.name for c in pending}
        cycle = _find_cycle({n: edges[n] & stuck for n in stuck})
        for c in pending:
            if c.name in cycle:
                blocked[c.name] = "requirement cycle: " + " -> ".join([*cycle, cycle[0]])
            else:
                waits = sorted(edges[c.name] & stuck)
                blocked[c.name] = f"waits on {', '.join(repr(w) for w in waits)}, caught in a requirement cycle"
    return StartPlan(tuple(order), tuple(Blocked(n, blocked[n]) for n in
                                         [c.name for c in components if c.name in blocked]))


def _find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle among ``edges`` (every node has at least one edge inside), in order."""
    start = sorted(edges)[0]
    path: list[str] = []
    node = start
    while node not in path:
        path.append(node)
        node = sorted(edges[node])[0]
    cycle = path[path.index(node):]
    first = min(cycle)
    i = cycle.index(first)
    return cycle[i:] + cycle[:i]
