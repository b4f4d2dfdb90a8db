"""Constraints a bundle puts on the outputs of its programs, for the engine to enforce.

A :class:`Constraint` on a point: limits (``min``, ``max``: a value outside
is clamped), a rate (``max_step``: the most a value may move from the last
one written, per write) and interlocks (the write is held back while an
interlock's point does not satisfy its condition). :func:`enforce` decides
one write, purely.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from bms.logic._sandbox import Value, Write

_OPS = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


class Interlock(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Writes are allowed only while ``point op value`` holds (op: eq neq gt gte lt lte)."""

    point: str
    op: str = "eq"
    value: float | bool = True


class Constraint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    point: str
    min: float | None = None
    max: float | None = None
    max_step: float | None = None
    interlocks: tuple[Interlock, ...] = ()


def constraint_problems(constraint: Constraint) -> list[str]:
    problems = []
    if constraint.min is not None and constraint.max is not None and constraint.min > constraint.max:
        problems.append(f"constraint {constraint.point}: min {constraint.min} is above max {constraint.max}")
    if constraint.max_step is not None and constraint.max_step <= 0:
        problems.append(f"constraint {constraint.point}: max_step must be above 0")
    for lock in constraint.interlocks:
        if lock.op not in _OPS:
            problems.append(
                f"constraint {constraint.point}: interlock on {lock.point}: op {lock.op!r} is not one of {', '.join(_OPS)}"
            )
    return problems


def enforce(
    constraint: Constraint, write: Write, values: Mapping[str, Value], last: Value = None
) -> tuple[Write | None, str | None]:
    """The write as allowed (clamped), or None with the reason it is held back."""
    for lock in constraint.interlocks:
        present = values.get(lock.point)
        if present is None or not _OPS[lock.op](present, lock.value):
            return None, f"{write.point}: interlock {lock.point} {lock.op} {lock.value} does not hold ({lock.point} is {present})"
    value = write.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if constraint.max_step is not None and isinstance(last, int | float) and not isinstance(last, bool):
            value = min(max(value, last - constraint.max_step), last + constraint.max_step)
        if constraint.min is not None:
            value = max(value, constraint.min)
        if constraint.max is not None:
            value = min(value, constraint.max)
    return (write if value == write.value else Write(write.point, value, write.priority)), None
