"""The collecting walk: TOML data against a Struct schema, every problem at once.

One pass over the data both checks and builds: each leaf is converted with
``msgspec.convert`` against its annotated type (so the ranges declared with
``msgspec.Meta`` on the Structs are the only ranges), each table becomes its
Struct as soon as its required keys decoded, and every problem is kept as one
line ``file: section.key: message`` instead of stopping at the first.

A key that fails but has a default takes the default, so the table still
decodes and the checks that follow (cross-references) see as much as
possible; :attr:`Decoded.failed` tells them which paths were already
reported, so that one mistake is never reported twice.

A Struct may check what spans its fields itself: a ``config_problems()``
method returning ``(key path, message)`` pairs, reported under the
table's path like any other problem (``[notify]`` checks that its rules
name recipients that exist).
"""

from __future__ import annotations

import difflib
import functools
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar, Union, get_args, get_origin

import msgspec
import msgspec.inspect as mi

T = TypeVar("T")
S = TypeVar("S")

_BAD: Any = object()
"""What a value that did not decode walks back as."""


class Table(NamedTuple):
    """One table of the data, as far as it decoded."""

    path: str  # "devices[2]", "networks.bacnet.main"; "" for the file itself
    cls: type[msgspec.Struct]
    fields: dict[str, Any]  # attribute -> value, for the keys present that decoded
    value: msgspec.Struct | None  # the Struct, when every required key decoded


@dataclass
class Decoded(Generic[T]):
    """What one walk found: the whole (only when nothing was wrong), the problems and every table."""

    value: T | None
    problems: list[str]
    tables: list[Table] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # paths already reported (and tables that did not decode)

    def found(self, cls: type[S]) -> list[tuple[str, S]]:
        """Every table of type ``cls`` that decoded, with its path, in file order."""
        return [(t.path, t.value) for t in self.tables if isinstance(t.value, cls)]

    def parts(self, cls: type[msgspec.Struct]) -> list[Table]:
        """Every table of type ``cls``, whether or not it decoded whole."""
        return [t for t in self.tables if issubclass(t.cls, cls)]

    def root(self) -> dict[str, Any]:
        """The keys of the file's top level that decoded (its table is walked last)."""
        return self.tables[-1].fields if self.tables and self.tables[-1].path == "" else {}

    def ok(self, path: str) -> bool:
        """True when nothing was reported at ``path`` (so a check on it says something new)."""
        return path not in self.failed


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def close_match(name: str, names: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``names``, or an empty string."""
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


def walk(data: Mapping[str, Any], cls: type[T], source: str) -> Decoded[T]:
    """Walk ``data`` against ``cls`` once; problems are ``source: path: message``."""
    w = _Walk(source)
    value = w.value(dict(data), cls, "")
    decoded: Decoded[T] = Decoded(None, w.problems, w.tables, w.failed)
    if not w.problems and value is not _BAD:
        decoded.value = value
    return decoded


def decode(data: Mapping[str, Any], cls: type[T], source: str) -> tuple[T | None, list[str]]:
    """Convert ``data`` to ``cls``: (the value, []) or (None, every problem as ``source: ...``)."""
    found = walk(data, cls, source)
    return found.value, found.problems


@functools.cache
def _fields(cls: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """A Struct's fields (msgspec evaluates the annotations anew on each call: once per class is enough)."""
    return msgspec.structs.fields(cls)


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


class _Walk:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self.tables: list[Table] = []
        self.failed: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.source}: {where or 'top level'}: {message}")
        self.failed.add(where)

    def value(self, value: Any, tp: Any, where: str) -> Any:
        if _is_struct(tp):
            return self.table(value, tp, where)
        origin = get_origin(tp)
        if origin is list:
            if not isinstance(value, list):
                self.problem(where, f"must be a list, got {_shown(value)}")
                return _BAD
            (item,) = get_args(tp)
            items = [self.value(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
            return [v for v in items if v is not _BAD]
        if origin is dict:
            if not isinstance(value, dict):
                self.problem(where, f"must be a table, got {_shown(value)}")
                return _BAD
            _, vt = get_args(tp)
            entries = {k: self.value(v, vt, join(where, k)) for k, v in value.items()}
            return {k: v for k, v in entries.items() if v is not _BAD}
        if origin is Union or origin is types.UnionType:
            structs = [a for a in get_args(tp) if _is_struct(a)]
            if structs and isinstance(value, dict):
                return self.table(value, structs[0], where) if len(structs) == 1 else self.tagged(value, structs, where)
        try:
            return msgspec.convert(value, tp, strict=True)
        except msgspec.ValidationError as err:
            self.problem(where, _describe(value, tp, err))
            return _BAD

    def table(self, value: Any, cls: type[msgspec.Struct], where: str, siblings: Mapping[str, str] | None = None) -> Any:
        """A Struct; ``siblings`` maps the keys of the other variants of a tagged union to their tag."""
        if not isinstance(value, dict):
            self.problem(where, f"must be a table, got {_shown(value)}")
            return _BAD
        known = {f.encode_name: f for f in _fields(cls)}
        tag_field = cls.__struct_config__.tag_field
        allowed = [*known, *([tag_field] if tag_field else [])]
        siblings = siblings or {}
        for key in value:
            if key in siblings:
                tag = cls.__struct_config__.tag
                self.problem(join(where, key), f"unknown key for {tag_field} {tag!r} (it belongs to {tag_field} "
                             f"{siblings[key]!r})")
            elif key not in allowed:
                self.problem(join(where, key), f"unknown key{close_match(key, allowed)}")
        fields: dict[str, Any] = {}
        whole = True
        for key, info in known.items():
            if key in value:
                got = self.value(value[key], info.type, join(where, key))
                if got is not _BAD:
                    fields[info.name] = got
                    continue
                whole = whole and not info.required  # a key with a default takes it
            elif info.required:
                self.problem(join(where, key), "missing (required)")
                whole = False
        struct = cls(**fields) if whole else None
        if not whole:
            self.failed.add(where)
        checks = getattr(struct, "config_problems", None)
        if checks is not None:  # what spans fields (a name that refers to another key), on the Struct itself
            for key, message in checks():
                self.problem(join(where, key), message)
        self.tables.append(Table(where, cls, fields, struct))
        return struct if whole else _BAD

    def tagged(self, value: dict[str, Any], structs: list[Any], where: str) -> Any:
        """A tagged union: the ``tag_field`` key picks the Struct."""
        tag_field = structs[0].__struct_config__.tag_field
        by_tag = {s.__struct_config__.tag: s for s in structs}
        tag = value.get(tag_field)
        if isinstance(tag, str) and tag in by_tag:
            chosen = by_tag[tag]
            own = {f.encode_name for f in _fields(chosen)}
            siblings = {f.encode_name: t for t, s in reversed(by_tag.items()) if s is not chosen
                        for f in _fields(s) if f.encode_name not in own}
            return self.table(value, chosen, where, siblings)
        choices = ", ".join(repr(t) for t in by_tag)
        self.problem(join(where, tag_field),
                     "missing (required)" if tag is None else f"must be one of {choices}, got {tag!r}")
        # Without a variant, still check every other key against what some variant accepts.
        fields = {f.encode_name: f for s in reversed(structs) for f in _fields(s)}
        for key, item in value.items():
            if key == tag_field:
                continue
            if key in fields:
                self.value(item, fields[key].type, join(where, key))
            else:
                self.problem(join(where, key), f"unknown key{close_match(key, [*fields, tag_field])}")
        return _BAD


# ------------------------------------------------------------------ wording


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _describe(value: Any, tp: Any, err: msgspec.ValidationError) -> str:
    """``must be 1..65535, got 99999`` / ``must be a string, got int 5``, read from the annotation."""
    wanted, kind_ok = _wanted(value, mi.type_info(tp))
    if not wanted:
        return str(err).split(" - at ", 1)[0]
    return f"must be {wanted}, got {value!r}" if kind_ok else f"must be {wanted}, got {_shown(value)}"


def _wanted(value: Any, info: mi.Type) -> tuple[str, bool]:
    """What the value should have been, and whether its kind was right (only a constraint failed)."""
    description = ""
    if isinstance(info, mi.Metadata):
        description = str((info.extra_json_schema or {}).get("description", ""))
        info = info.type
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(info, mi.UnionType):
        options = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(options) == 1:
            return _wanted(value, options[0])
        return " or ".join(_wanted(value, t)[0] for t in options), False
    if isinstance(info, mi.IntType):
        return (_bounds(info), True) if isinstance(value, int) and is_number else ("an integer", False)
    if isinstance(info, mi.FloatType):
        return (_bounds(info), True) if is_number else ("a number", False)
    if isinstance(info, mi.StrType):
        if not isinstance(value, str):
            return "a string", False
        if description:
            return description, True
        return _lengths(info), True
    if isinstance(info, mi.LiteralType):
        return "one of " + ", ".join(repr(v) for v in info.values), True
    if isinstance(info, mi.BoolType):
        return "true or false", False
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return "a list", False
    if isinstance(info, (mi.DictType, mi.StructType)):
        return "a table", False
    return "", False


def _bounds(info: mi.IntType | mi.FloatType) -> str:
    if info.ge is not None and info.le is not None:
        return f"{info.ge}..{info.le}"
    parts = []
    if info.gt is not None:
        parts.append(f"above {info.gt}")
    if info.ge is not None:
        parts.append(f"{info.ge} or more")
    if info.lt is not None:
        parts.append(f"below {info.lt}")
    if info.le is not None:
        parts.append(f"{info.le} or less")
    if info.multiple_of is not None:
        parts.append(f"a multiple of {info.multiple_of}")
    return " and ".join(parts)


def _lengths(info: mi.StrType) -> str:
    if info.pattern is not None:
        return f"text matching {info.pattern}"
    if info.min_length is not None and info.max_length is not None:
        return f"{info.min_length} to {info.max_length} characters long"
    if info.min_length is not None:
        return f"at least {info.min_length} characters long"
    if info.max_length is not None:
        return f"at most {info.max_length} characters long"
    return ""
