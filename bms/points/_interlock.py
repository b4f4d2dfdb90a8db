"""Interlock expressions: a small, safe boolean language over point values.

``"ahu1/fan_status == 1 and ahu1/sat < 30"`` permits a write while it is true.
The grammar is a whitelist over Python's expression syntax: ``and``, ``or``,
``not``, comparisons (``== != < <= > >=``, chains allowed), parentheses,
numbers (with a sign), ``True``/``False``, quoted strings (multi-state and
text values) and point ids (``device/point``: any token with a ``/``).
Nothing else parses: no calls, attributes, arithmetic or names. The
expression is checked once, at load, and evaluated by walking a tree of
closures, never by ``eval``.

Every referenced point must have a current value: a missing one is
reported (:class:`MissingValue`), and the guard refuses the write.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Mapping
from typing import TypeGuard

from bms.errors import ConfigError
from bms.messages import Value

_TOKEN = re.compile(
    r"""(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<ref>[A-Za-z0-9_][\w.\-]*(?:/[\w.\-]+)+)"""
)

_PREFIX = "__point_"  # point ids become these names before parsing

_COMPARE: dict[type[ast.cmpop], Callable[[object, object], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,  # type: ignore[operator]
    ast.LtE: lambda a, b: a <= b,  # type: ignore[operator]
    ast.Gt: lambda a, b: a > b,  # type: ignore[operator]
    ast.GtE: lambda a, b: a >= b,  # type: ignore[operator]
}

_Values = Mapping[str, Value]
_Eval = Callable[[_Values], object]


class MissingValue(Exception):
    """A point the interlock reads has no current value."""

    def __init__(self, point_id: str) -> None:
        super().__init__(point_id)
        self.point_id = point_id


class Interlock:
    """A parsed interlock expression; :meth:`permits` evaluates it."""

    __slots__ = ("_run", "expression", "points")

    def __init__(self, expression: str, known: Collection[str], where: str = "interlock") -> None:
        """Parse ``expression``; :class:`ConfigError` naming ``where`` and the expression if bad.

        ``known`` is every point id of the site; referencing another is an error.
        """
        self.expression = expression
        names: dict[str, str] = {}

        def rename(match: re.Match[str]) -> str:
            ref = match.group("ref")
            if ref is None:
                return match.group(0)
            return names.setdefault(ref, f"{_PREFIX}{len(names)}")

        def fail(problem: str) -> ConfigError:
            return ConfigError(f"{where}: {expression!r}: {problem}")

        if _PREFIX in expression:
            raise fail(f"names starting with {_PREFIX!r} are reserved")
        source = _TOKEN.sub(rename, expression)
        unknown = [ref for ref in names if ref not in known]
        if unknown:
            raise fail(f"unknown point {unknown[0]!r}")
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as err:
            raise fail(f"not a valid expression ({err.msg})") from None
        except (RecursionError, MemoryError):
            raise fail("nested too deeply") from None
        by_name = {name: ref for ref, name in names.items()}
        self.points: tuple[str, ...] = tuple(names)
        try:
            self._run: _Eval = _compile(tree.body, by_name, fail)
        except RecursionError:
            raise fail("nested too deeply") from None

    def permits(self, values: _Values) -> bool:
        """Whether the expression is true for ``values``.

        Raises :class:`MissingValue` if a referenced point has no value
        (absent or ``None``), ``TypeError`` if values cannot be compared.
        """
        for point_id in self.points:
            if values.get(point_id) is None:
                raise MissingValue(point_id)
        return bool(self._run(values))

    def __repr__(self) -> str:
        return f"Interlock({self.expression!r})"


def _compile(node: ast.expr, refs: Mapping[str, str], fail: Callable[[str], ConfigError]) -> _Eval:
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, refs, fail) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda vals: all(p(vals) for p in parts)
        return lambda vals: any(p(vals) for p in parts)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            inner = _compile(node.operand, refs, fail)
            return lambda vals: not inner(vals)
        operand = node.operand
        if isinstance(node.op, ast.USub | ast.UAdd) and isinstance(operand, ast.Constant) and _is_number(operand.value):
            number: float = operand.value if isinstance(node.op, ast.UAdd) else -operand.value
            return lambda vals: number
        raise fail("a sign is only allowed before a number")
    if isinstance(node, ast.Compare):
        first = _compile(node.left, refs, fail)
        ops: list[Callable[[object, object], bool]] = []
        for op in node.ops:
            compare = _COMPARE.get(type(op))
            if compare is None:
                raise fail(f"comparison {type(op).__name__} is not allowed (use == != < <= > >=)")
            ops.append(compare)
        rest = [_compile(c, refs, fail) for c in node.comparators]

        def chain(vals: _Values) -> bool:
            left = first(vals)
            for compare, right_of in zip(ops, rest, strict=True):
                right = right_of(vals)
                if not compare(left, right):
                    return False
                left = right
            return True

        return chain
    if isinstance(node, ast.Name):
        point_id = refs.get(node.id)
        if point_id is None:
            raise fail(f"unknown name {node.id!r} (point ids look like device/point)")
        return lambda vals: vals[point_id]
    if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
        constant = node.value
        return lambda vals: constant
    raise fail(f"{type(node).__name__} is not allowed (only and/or/not, comparisons, numbers, strings, points)")


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
