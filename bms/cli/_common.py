"""What the operator commands share: ``--data``/``--json``, the daemon connection,
parameter types (point ids, values, durations, times) and unknown-point hints.

Inside ``bms shell`` every command runs with a :class:`Connection` as the
click context object, so all commands share one client and one cache of
point ids; from the command line each command connects on its own.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.shell_completion import CompletionItem

from bms.errors import BmsError, ConfigError, NotFound
from bms.messages import Value

if TYPE_CHECKING:
    from bms.client import ApiClient

F = TypeVar("F", bound=Callable[..., Any])

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_NEGATIVE = re.compile(r"-(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


def data_option(fn: F) -> F:
    """``--data DIR``: the daemon's data directory (env BMS_DATA, else conf/bms.toml)."""
    return click.option(
        "--data", type=click.Path(path_type=Path, file_okay=False), envvar="BMS_DATA",
        help="Data directory of the daemon (env BMS_DATA; default from conf/bms.toml).",
    )(fn)


def json_option(fn: F) -> F:
    """``--json``: machine-readable output instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(fn)


def data_dir(option: Path | None) -> Path:
    """``--data`` (or BMS_DATA) when given, else ``daemon.data_dir`` of conf/bms.toml."""
    from bms.config import load_settings
    from bms.daemon import resolve_data_dir

    if option is not None:
        return resolve_data_dir(option, "")
    settings, _path = load_settings(isolate=True)  # a component's bad section is the daemon's concern
    return resolve_data_dir(None, settings.daemon.data_dir)


class Connection:
    """A client shared by every command of a session, with a cache of point ids.

    The cache is filled on first use and refreshed when older than
    ``max_age`` seconds; a failed refresh keeps the previous list.
    """

    def __init__(self, client: ApiClient, data_dir: Path, max_age: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.data_dir = data_dir
        self.max_age = max_age
        self._clock = clock
        self._ids: list[str] = []
        self._fetched: float | None = None

    def point_ids(self) -> list[str]:
        """Known point ids, refreshed from the daemon when stale."""
        if self._fetched is None or self._clock() - self._fetched > self.max_age:
            self.refresh()
        return self._ids

    def refresh(self) -> list[str]:
        """Fetch the point ids now (keeps the old list if the daemon does not answer)."""
        try:
            self._ids = sorted(p.point_id for p in self.client.points())
        except BmsError:
            pass
        self._fetched = self._clock()
        return self._ids


USER_KEY = "bms.user"
TOKEN_ENV = "BMS_TOKEN"


def connect(data: Path | None, origin: str = "cli") -> ApiClient:
    """The session's client inside the shell, else the daemon found through the data directory."""
    ctx = click.get_current_context()
    shared = ctx.find_object(Connection)
    if shared is not None and data is None:
        return shared.client
    client = open_client(data_dir(data), origin)
    ctx.call_on_close(client.close)
    return client


def open_client(path: Path, origin: str = "cli") -> ApiClient:
    """A client of the daemon on ``path`` acting as: the token in BMS_TOKEN, else ``bms --user NAME``
    (its password prompted for), else the local admin (``api.token`` of the data directory)."""
    from bms.client import ApiClient

    token = os.environ.get(TOKEN_ENV, "").strip()
    ctx = click.get_current_context(silent=True)
    user = ctx.find_root().meta.get(USER_KEY) if ctx is not None else None
    if token:
        return ApiClient.from_data_dir(path, token=token, origin=origin)
    if not user:
        return ApiClient.from_data_dir(path, origin=origin)
    client = ApiClient.from_data_dir(path, token="", origin=origin)
    try:
        client.login(user, click.prompt(f"password for {user}", hide_input=True, err=True))
    except BaseException:
        client.close()
        raise
    return client


def daemon_running(path: Path) -> bool:
    """Whether a daemon runs on the data directory ``path`` (its daemon.json names a live process)."""
    from bms.daemon import read_daemon_info

    info = read_daemon_info(path)
    if info is None:
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acting_user() -> str | None:
    """``bms --user NAME``, if given."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_root().meta.get(USER_KEY) if ctx is not None else None
    return str(found) if found else None


def known_point_ids(client: ApiClient) -> list[str]:
    """Point ids for suggestions: the session's cache, else one fetch (empty on failure)."""
    ctx = click.get_current_context(silent=True)
    shared = ctx.find_object(Connection) if ctx is not None else None
    if shared is not None and shared.client is client:
        return shared.refresh()
    try:
        return [p.point_id for p in client.points()]
    except BmsError:
        return []


def close_matches(point_id: str, known: Sequence[str], limit: int = 3) -> list[str]:
    """Ids the user probably meant: the same last segment first, then the closest spellings."""
    tail = point_id.rsplit("/", 1)[-1]
    same_tail = [k for k in known if k != point_id and k.rsplit("/", 1)[-1] == tail]
    scored = sorted(((difflib.SequenceMatcher(None, point_id, k).ratio(), k) for k in known if k != point_id),
                    key=lambda rk: (-rk[0], rk[1]))
    best = scored[0][0] if scored else 1.0
    similar = [k for ratio, k in scored if ratio >= max(0.6, best - 0.1)]
    return list(dict.fromkeys(same_tail + similar))[:limit]


def unknown_point_message(message: str, point_id: str, known: Sequence[str]) -> str:
    """The server's one line, naming the point, with ``(did you mean ...?)`` when close ids exist."""
    text = message if point_id in message else f"unknown point {point_id!r}: {message}"
    matches = close_matches(point_id, known)
    if matches:
        text += " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"
    return text


@contextmanager
def naming_point(client: ApiClient, point_id: str) -> Iterator[None]:
    """Re-raise an unknown (NotFound) or malformed (ConfigError) ``point_id`` with close matches."""
    try:
        yield
    except (NotFound, ConfigError) as err:
        known = known_point_ids(client)
        if point_id in known:  # the point exists: the refusal is about something else
            raise
        raise type(err)(unknown_point_message(str(err), point_id, known)) from None


def parse_value(text: str) -> Value:
    """An operator's value: ``true``/``false``/``null``, an int, a finite float, else the text."""
    word = text.strip()
    lowered = word.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if _INT.fullmatch(word):
        return int(word)
    if _FLOAT.fullmatch(word) and math.isfinite(number := float(word)):
        return number
    return text


def parse_time(text: str, now: float) -> float:
    """Epoch seconds for what an operator typed (see :data:`bms.api.TIME_HELP`).

    The API's parser, with dates and times of day in this computer's local time.
    """
    from bms.api import parse_time as shared

    return shared(text, now, None)


def no_points(pattern: str | None, tags: Sequence[str] = ()) -> NotFound:
    """The one answer of every command whose ``pattern`` or tags select no point."""
    what = " and ".join(filter(None, [f"match {pattern!r}" if pattern else "",
                                      f"carry {', '.join(tags)}" if tags else ""]))
    return NotFound(f"no points {what}")


class SignedArguments(click.Command):
    """A command whose arguments may be negative numbers: ``point write ahu1/sat_sp -20 -p 16``.

    A token such as ``-20`` is an argument, not an unknown option ``-2``: the
    options (with their values) are parsed first, the arguments after ``--``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args or not any(_NEGATIVE.fullmatch(a) for a in args):
            return super().parse_args(ctx, args)
        valued = {name for p in self.get_params(ctx) if isinstance(p, click.Option) and not p.is_flag and not p.count
                  for name in (*p.opts, *p.secondary_opts)}
        options: list[str] = []
        arguments: list[str] = []
        tokens = iter(args)
        for token in tokens:
            if token.startswith("-") and len(token) > 1 and not _NEGATIVE.fullmatch(token):
                options.append(token)
                value = next(tokens, None) if token in valued else None
                if value is not None:
                    options.append(value)
            else:
                arguments.append(token)
        return super().parse_args(ctx, [*options, "--", *arguments])


class PointId(click.ParamType[str]):
    """A point id; completes from the session's known ids."""

    name = "point"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        shared = ctx.find_object(Connection)
        if shared is None:
            return []
        return [CompletionItem(pid) for pid in shared.point_ids() if pid.startswith(incomplete)]


class PointValueType(click.ParamType[Value]):
    """A value to write, see :func:`parse_value`."""

    name = "value"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Value:
        return parse_value(value) if isinstance(value, str) else value


class Duration(click.ParamType[float]):
    """A duration such as ``90s``, ``15m``, ``1h30m``, ``2d``, in seconds (at most 366 days)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        from bms.client import parse_duration

        try:
            return parse_duration(value)
        except BmsError as err:
            self.fail(str(err), param, ctx)


class TimeSpec(click.ParamType[float]):
    """A point in time, see :func:`parse_time`; converted to epoch seconds."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_time(value, time.time())
        except BmsError as err:
            self.fail(str(err), param, ctx)


POINT_ID = PointId()
POINT_VALUE = PointValueType()
DURATION = Duration()
TIME = TimeSpec()
