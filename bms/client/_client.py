"""``ApiClient``: the daemon's local API as plain method calls (sync, httpx)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from bms.api import HealthReport, HistorySeries, LogLevel, NodeTree, Rollup, parse_duration
from bms.auth import Identity
from bms.auth.messages import NewToken
from bms.client._errors import error_for, server_message
from bms.client._stream import EventStream
from bms.daemon import read_daemon_info
from bms.daemon._datadir import TOKEN_NAME
from bms.devices import scan_seconds
from bms.errors import CodecError, ConfigError, DaemonError
from bms.messages import DeviceRecord, DiscoveryProgress, PointState, PriorityArrayView, Value, WriteAccepted, decode

if TYPE_CHECKING:
    from bms.model import Node

T = TypeVar("T")
Params = Mapping[str, str | int | float | list[str] | None]

DISCOVERY_MARGIN = 35.0  # seconds a scan may take beyond its own timeout


def _point_path(point_id: str) -> str:
    device, sep, key = point_id.partition("/")
    if not (sep and device and key) or "/" in key:
        raise ConfigError(f"invalid point id {point_id!r}: expected device/key")
    return f"{quote(device, safe='')}/{quote(key, safe='')}"


def _seconds(duration: float | str | None) -> float | None:
    if duration is None or isinstance(duration, (int, float)):
        return duration
    return parse_duration(duration)


class ApiClient:
    """A connection to one daemon's API; every failure is a BmsError.

    Point ids are ``device/key``. Times (``start``, ``end``) are epoch
    seconds or text the daemon parses (``-1h``, ``now``, ISO 8601);
    durations are seconds or text like ``15m``.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0, data_dir: Path | None = None,
                 transport: httpx.BaseTransport | None = None, origin: str = "cli") -> None:
        self.base_url = base_url.rstrip("/")
        self.data_dir = data_dir
        self.timeout = timeout
        self._own_transport = transport is None
        headers = {"X-Bms-Origin": origin}  # where from, for the audit log (cli, shell)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    @classmethod
    def from_data_dir(cls, data_dir: Path | str, *, timeout: float = 10.0, token: str | None = None,
                      origin: str = "cli") -> ApiClient:
        """The client of the daemon running on ``data_dir`` (from daemon.json), with ``token``
        (default: the local admin's, from api.token; "" for none yet, to :meth:`login`)."""
        path = Path(data_dir).expanduser().resolve()
        info = read_daemon_info(path)
        if token is None:
            try:
                token = (path / TOKEN_NAME).read_text().strip()
            except OSError:
                token = ""
            if not token:
                raise _no_daemon(path)
        if info is None:
            raise _no_daemon(path)
        return cls(info.api_url, token, timeout=timeout, data_dir=path, origin=origin)

    def use_token(self, token: str) -> None:
        """Make the next requests with ``token``."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    def login(self, user: str, password: str) -> NewToken:
        """Log in with a password: a short-lived token, used from now on by this client."""
        made = self.post("/api/auth/login", NewToken, {"user": user, "password": password})
        self.use_token(made.token)
        return made

    def whoami(self) -> Identity:
        return self.get("/api/auth/whoami", Identity)

    # ------------------------------------------------------------ plumbing
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _request(self, method: str, path: str, *, params: Params | None = None, body: Any = None,
                 timeout: float | None = None, point_id: str = "") -> httpx.Response:
        content = None if body is None else msgspec.json.encode(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        query = {k: v for k, v in (params or {}).items() if v is not None and v != []}
        try:
            response = self._http.request(method, path, params=query, content=content, headers=headers,
                                          timeout=timeout if timeout is not None else self.timeout)
        except httpx.ConnectError:
            raise self._unreachable() from None
        except httpx.TimeoutException:
            raise DaemonError(f"the daemon did not answer {method} {path} in time") from None
        except httpx.HTTPError as err:
            raise DaemonError(f"{method} {path} failed: {err}") from err
        if response.status_code >= 400:
            raise error_for(response.status_code, server_message(response.content, response.status_code), point_id)
        return response

    def _unreachable(self) -> DaemonError:
        if self.data_dir is not None:
            return _no_daemon(self.data_dir)
        return DaemonError(f"no bms daemon answers at {self.base_url}")

    def get(self, path: str, kind: type[T], params: Params | None = None) -> T:
        """GET ``path`` (a component's route, e.g. ``/api/example/busiest``), decoded as ``kind``."""
        return _decode(self._request("GET", path, params=params).content, kind)

    def post(self, path: str, kind: type[T], body: Any = None, *, timeout: float | None = None,
             point_id: str = "") -> T:
        """POST ``body`` (a Struct or plain data) to ``path``; the reply decoded as ``kind``."""
        response = self._request("POST", path, body=body if body is not None else {}, timeout=timeout,
                                 point_id=point_id)
        return _decode(response.content, kind)

    # ------------------------------------------------------------- reads
    def health(self) -> HealthReport:
        return self.get("/api/health", HealthReport)

    def nodes(self, under: str | None = None, tags: Iterable[str] = (), node_type: str | None = None) -> list[Node]:
        from bms.model import Node  # on use: the model brings SQLAlchemy

        return self.get("/api/nodes", list[Node], {"under": under, "tag": list(tags), "type": node_type})

    def node(self, node_id: str) -> Node:
        from bms.model import Node

        return self.get(f"/api/nodes/{quote(node_id, safe='/')}", Node)

    def tree(self, root: str | None = None) -> list[NodeTree]:
        return self.get("/api/nodes/tree", list[NodeTree], {"root": root})

    def points(self, under: str | None = None, tags: Iterable[str] = (), pattern: str | None = None) -> list[PointState]:
        return self.get("/api/points", list[PointState], {"under": under, "tag": list(tags), "pattern": pattern})

    def point(self, point_id: str) -> PointState:
        return self.get(f"/api/points/{_point_path(point_id)}", PointState)

    def priority(self, point_id: str) -> PriorityArrayView:
        return self.get(f"/api/points/{_point_path(point_id)}/priority", PriorityArrayView)

    def history(self, point_id: str, start: float | str = "-1h", end: float | str = "now", rollup: Rollup = "raw",
                limit: int | None = None) -> HistorySeries:
        return self.get(f"/api/history/{_point_path(point_id)}", HistorySeries,
                         {"start": str(start), "end": str(end), "rollup": rollup, "limit": limit})

    def history_csv(self, point_id: str, start: float | str = "-1h", end: float | str = "now",
                    rollup: Rollup = "raw", limit: int | None = None) -> str:
        params: Params = {"start": str(start), "end": str(end), "rollup": rollup, "limit": limit}
        return self._request("GET", f"/api/history/{_point_path(point_id)}/csv", params=params).text

    def devices(self, protocol: str | None = None) -> list[DeviceRecord]:
        return self.get("/api/devices", list[DeviceRecord], {"protocol": protocol})

    def device(self, device_id: str) -> DeviceRecord:
        return self.get(f"/api/devices/{quote(device_id, safe='')}", DeviceRecord)

    # ---------------------------------------------------------- commands
    def write(self, point_id: str, value: Value, priority: int = 8,
              duration: float | str | None = None, wait: float = 0.0, request_id: str | None = None) -> WriteAccepted:
        """Command a point; ``wait`` > 0 waits that long (s) for the device's answer (``device``).

        The command carries ``request_id`` (minted here when not given): the
        device's answer is matched by it, whatever restarts in between.
        """
        body = {"value": value, "priority": priority, "duration": _seconds(duration), "wait": wait,
                "request_id": request_id or uuid.uuid4().hex}
        return self.post(f"/api/points/{_point_path(point_id)}/write", WriteAccepted, body, point_id=point_id,
                          timeout=self.timeout + wait if wait > 0 else None)

    def relinquish(self, point_id: str, priority: int = 8, wait: float = 0.0,
                   request_id: str | None = None) -> WriteAccepted:
        """Release a level; ``wait`` as for :meth:`write`."""
        body = {"priority": priority, "wait": wait, "request_id": request_id or uuid.uuid4().hex}
        return self.post(f"/api/points/{_point_path(point_id)}/relinquish", WriteAccepted, body, point_id=point_id,
                          timeout=self.timeout + wait if wait > 0 else None)

    def discover(self, protocol: str = "bacnet", low: int | None = None, high: int | None = None,
                 timeout: float = 3.0, network: str | None = None, scan: str = "",
                 progress: Callable[[DiscoveryProgress], None] | None = None,
                 units: Sequence[int] = ()) -> list[DeviceRecord]:
        """Scan a network (a Modbus probe: ``network`` HOST:PORT, ``units``, ``timeout`` per unit);
        ``progress`` gets each DiscoveryProgress of the scan while it runs.

        ``scan`` names the scan (made up when ``progress`` is given without
        one), so a stream opened first (``stream(scan=...)``) follows it too.
        """
        if progress is not None and not scan:
            scan = secrets.token_hex(6)
        body: dict[str, Any] = {"protocol": protocol, "low": low, "high": high, "timeout": timeout,
                                "network": network, "scan": scan, "units": list(units)}
        count = len(units) or (high - low + 1 if low is not None and high is not None else 0)
        wait = scan_seconds(protocol, timeout, count) + DISCOVERY_MARGIN
        if progress is not None and self._own_transport:
            from bms.client._scan import discover_following

            return discover_following(self.base_url, self._http.headers, self.timeout, body, wait, progress)
        return self.post("/api/devices/discover", list[DeviceRecord], body, timeout=wait)

    def accept(self, device_id: str, profile: str | None = None, equip_id: str | None = None) -> DeviceRecord:
        return self.post(f"/api/devices/{quote(device_id, safe='')}/accept", DeviceRecord,
                          {"profile": profile, "equip_id": equip_id})

    def ignore(self, device_id: str) -> DeviceRecord:
        return self.post(f"/api/devices/{quote(device_id, safe='')}/ignore", DeviceRecord)

    def remove(self, device_id: str) -> DeviceRecord:
        """Take an accepted device out of the site (``DELETE /api/devices/ID``)."""
        return _decode(self._request("DELETE", f"/api/devices/{quote(device_id, safe='')}").content, DeviceRecord)

    def set_log_level(self, level: LogLevel) -> None:
        self.post("/api/log-level", Any, {"level": level})

    # ------------------------------------------------------------ stream
    def stream(self, points: Iterable[str] = (), tags: Iterable[str] = (), *, scan: str = "",
               timeout: float = 60.0) -> EventStream:
        """Live changes of ``points`` and of the points carrying all ``tags`` (all points
        when neither is given, none when only ``scan`` is), and the DiscoveryProgress of
        discovery ``scan``. Live when this returns; ``timeout`` bounds the silence
        between two keep-alives."""
        query = {"points": ",".join(points), "tags": ",".join(tags), "scan": scan}
        return self.events("/api/stream", {k: v for k, v in query.items() if v}, timeout=timeout)

    def events(self, path: str, params: Params | None = None, decoder: Callable[[str], Any] = decode, *,
               timeout: float = 60.0) -> EventStream:
        """A live stream of Server-Sent Events at ``path`` (a component's, e.g. ``/api/alarms/stream``),
        each decoded with ``decoder``. Live when this returns."""
        request = self._http.build_request("GET", path, params=params,
                                           timeout=httpx.Timeout(self.timeout, read=timeout))
        try:
            response = self._http.send(request, stream=True)
        except httpx.ConnectError:
            raise self._unreachable() from None
        except httpx.HTTPError as err:
            raise DaemonError(f"cannot open the live stream: {err}") from err
        if response.status_code >= 400:
            body = response.read()
            response.close()
            raise error_for(response.status_code, server_message(body, response.status_code))
        return EventStream(response, decoder)


def _no_daemon(data_dir: Path) -> DaemonError:
    return DaemonError(f"no bms daemon is running on {data_dir}; start it with `bms daemon --data {data_dir}`")


def _decode(content: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(content, type=kind)
    except msgspec.DecodeError as err:
        raise CodecError(f"unexpected reply from the daemon: {err}") from err
