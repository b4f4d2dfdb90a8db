"""Every failure leaves the API as ``{"error": "one line"}`` with the right status.

=========================  ======
NotFound                   404
WriteRefused               409 (the message names the guard)
Conflict                   409 (the request contradicts the current state)
Unavailable                503 (ServiceUnavailable: the component is not running)
StoreError                 503 (a database cannot be read right now)
DeviceTimeout              504
other ProtocolError        502 (CodecError included: a reply that cannot be decoded)
NotAuthenticated           401 (LockedOut 429)
PermissionDenied           403
other BmsError             400 (ConfigError: bad input the domain refused)
bad body / query / path    400, naming the field (``$.priority: Expected int, got str``)
body nested too deeply     400 (``bms.api._strict``)
body over the limit        413
anything unexpected        500, logged with its traceback, never sent
=========================  ======
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from bms.api._audit import note_detail
from bms.api._wire import ErrorBody
from bms.errors import (
    BmsError,
    Conflict,
    DeviceTimeout,
    LockedOut,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ProtocolError,
    StoreError,
    Unavailable,
    WriteRefused,
)
from bms.logs import get_logger

_DESCRIPTIONS = {
    400: "Bad request: malformed body, wrong field type, or refused input",
    401: "Missing or invalid bearer token",
    403: "The caller's role does not allow this (permission, priority ceiling or scope)",
    429: "Too many failed logins: locked out for a while",
    404: "Unknown point, node or device",
    409: "Refused: a write guard, or the request contradicts the current state",
    413: "Request body too large",
    502: "The device answered with an error",
    503: "The component (or store) that would answer is not available",
    504: "The device did not answer in time",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error statuses a route returns (400, 401 and 403 always)."""
    return {
        code: ResponseSpec(data_container=ErrorBody, description=_DESCRIPTIONS[code])
        for code in sorted({400, 401, 403, *codes})
    }


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    """An error reply; JSON whatever the media type of the route it replaces."""
    body = msgspec.json.encode(ErrorBody(error=message))
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def status_of(err: BmsError) -> int:
    """The HTTP status of a refusal or failure (the table above)."""
    if isinstance(err, NotFound):
        return 404
    if isinstance(err, LockedOut):
        return 429
    if isinstance(err, NotAuthenticated):
        return 401
    if isinstance(err, PermissionDenied):
        return 403
    if isinstance(err, (WriteRefused, Conflict)):
        return 409
    if isinstance(err, (Unavailable, StoreError)):
        return 503
    if isinstance(err, DeviceTimeout):
        return 504
    if isinstance(err, ProtocolError):
        return 502
    return 400


def _one_line(text: str) -> str:
    return " ".join(text.split())


def on_bms_error(request: Request[Any, Any, Any], err: BmsError) -> Response[bytes]:
    message = str(err)
    if isinstance(err, WriteRefused) and err.guard and "guard" not in message.lower():
        message = f"{message} (guard {err.guard})"  # as bms.points words it
    note_detail(request.scope, _one_line(message))
    return error(status_of(err), _one_line(message))


def http_error_handler(max_body_bytes: int) -> Callable[[Request[Any, Any, Any], HTTPException], Response[bytes]]:
    """The handler of Litestar's own refusals (validation, unknown route, 405, 413)."""

    def on_http_error(request: Request[Any, Any, Any], err: HTTPException) -> Response[bytes]:
        allow = {k: v for k, v in (err.headers or {}).items() if k.lower() == "allow"}
        if isinstance(err, ValidationException) and isinstance(err.extra, list) and err.extra:
            message = "; ".join(_field_problem(item) for item in err.extra if isinstance(item, dict))
        elif isinstance(err.__cause__, SerializationException):
            message = f"invalid JSON body: {err.detail}"
        elif err.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif err.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path} (allowed: {_methods(allow)})"
        elif err.status_code == 413:
            message = f"request body over the limit of {max_body_bytes} bytes"
        else:
            message = err.detail
        headers = {"WWW-Authenticate": "Bearer"} if err.status_code == 401 else allow
        note_detail(request.scope, _one_line(message.replace("`", "")))
        return error(err.status_code, _one_line(message.replace("`", "")), headers or None)

    return on_http_error


def _methods(allow: dict[str, str]) -> str:
    return ", ".join(sorted(m.strip() for value in allow.values() for m in value.split(",")))


def _field_problem(item: dict[str, Any]) -> str:
    source_kind = item.get("source", "")
    key, source = str(item.get("key", "")), str(getattr(source_kind, "value", source_kind))
    text = str(item.get("message", "invalid value"))
    if source == "body":
        where = "$" if key in ("", "data") else f"$.{key}"
    elif source:
        where = f"{source} parameter {key!r}"
    else:
        where = key or "request"
    return f"{where}: {text}"


def on_unexpected(request: Request[Any, Any, Any], err: Exception) -> Response[bytes]:
    """A bug: log it with its traceback, answer a clean 500."""
    get_logger("api").error(  # looked up now: the daemon's log level may have changed
        "unexpected error in request",
        method=request.method,
        path=request.url.path,
        error=repr(err),
        exc_info=err,
    )
    return error(500, f"internal error ({type(err).__name__}); see the daemon log")
