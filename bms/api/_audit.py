"""Every state-changing request is audited before its answer leaves: one generic hook.

Litestar hands every ASGI message the app sends to :func:`audit_hook`.
When the response of a request that changes state (any method but GET,
HEAD and OPTIONS) by a known caller starts, the hook records one
:class:`~bms.audit.AuditEntry` through the :class:`Auditor` and only then
lets the response go: an action is acknowledged after its row is
committed. If the row cannot be committed the answer becomes 503 (the
action may have happened; the caller was not told it did).

The entry is made from the request: the caller (``scope["user"]``), where
from (``X-Bms-Origin: cli|shell`` and the client's address), the action
(the route's ``operation_id``), the target (the path parameters), the
outcome (from the status) and the error line (:func:`note_detail`, called by
the error handlers). A handler adds what only it knows with :func:`note`:
values before and after, another target, the user a login was for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec

from bms.api._wire import ErrorBody
from bms.audit.messages import AuditEntry
from bms.auth._roles import Identity
from bms.errors import BmsError
from bms.logs import get_logger

Scope = dict[str, Any]
"""An ASGI scope, as Litestar hands it to the hook (a plain dict here: the hook adds keys of its own)."""

NOTE = "bms.audit"
READS = frozenset({"GET", "HEAD", "OPTIONS"})
ORIGINS = frozenset({"cli", "shell"})


class Auditor(Protocol):
    async def record(self, entry: AuditEntry) -> None:
        """Commit ``entry``; raises a BmsError when it cannot."""
        ...


def _json(value: Any) -> str:
    return "" if value is None else msgspec.json.encode(value).decode()


def note(scope: Any, **fields: Any) -> None:
    """Add to the request's audit entry: ``before``/``after`` (any JSON-able value), ``target``, ``action``,
    ``user`` (of a login, before anyone is authenticated), ``detail``."""
    notes: dict[str, Any] = scope.setdefault(NOTE, {})
    for key, value in fields.items():
        notes[key] = _json(value) if key in ("before", "after") else value


def note_detail(scope: Any, detail: str) -> None:
    scope.setdefault(NOTE, {})["detail"] = detail


def _outcome(status: int) -> str:
    if status < 400:
        return "done"
    if status in (502, 504) or status >= 500:
        return "failed"
    return "refused"


def origin_of(scope: Scope) -> str:
    headers = dict(scope.get("headers") or ())
    via = headers.get(b"x-bms-origin", b"").decode("latin-1").strip().lower()
    client = scope.get("client")
    address = client[0] if client else "local"
    return f"{via if via in ORIGINS else 'api'} {address}"


def entry_of(scope: Scope, status: int, now: float) -> AuditEntry | None:
    """The audit entry of a finished request (None: nothing to record)."""
    if scope.get("type") != "http" or scope.get("method") in READS:
        return None
    notes: dict[str, Any] = scope.get(NOTE) or {}
    who = scope.get("user")
    if isinstance(who, Identity):
        user, token = who.user, who.token
    elif "user" in notes:
        user, token = str(notes["user"]), ""
    else:
        return None  # nobody authenticated: a 401 is not an action of anyone
    handler = scope.get("route_handler")
    action = notes.get("action") or getattr(handler, "operation_id", None) or f"{scope['method']} {scope['path']}"
    params = scope.get("path_params") or {}
    target = notes.get("target") or "/".join(str(v) for v in params.values())
    return AuditEntry(at=now, user=user, token=token, origin=origin_of(scope), action=str(action),
                      target=str(target), before=notes.get("before", ""), after=notes.get("after", ""),
                      outcome=_outcome(status), detail=str(notes.get("detail", "")))


def audit_hook(auditor: Auditor, now: Callable[[], float] = time.time) -> Callable[[Any, Any], Awaitable[None]]:
    """The ``before_send`` hook recording each state-changing request before its answer goes out."""
    failed = msgspec.json.encode(ErrorBody(error="the action could not be recorded in the audit log: "
                                                 "it may have been done; see the daemon log"))

    async def before_send(message: dict[str, Any], scope: Scope) -> None:
        if message["type"] == "http.response.start":
            entry = entry_of(scope, message["status"], now())
            if entry is None:
                return
            try:
                await auditor.record(entry)
            except BmsError as err:
                get_logger("api").error("audit record failed: answering 503", action=entry.action,
                                        target=entry.target, user=entry.user, error=str(err))
                scope[NOTE + ".failed"] = True
                message["status"] = 503
                message["headers"] = [(b"content-type", b"application/json"),
                                      (b"content-length", str(len(failed)).encode())]
        elif message["type"] == "http.response.body" and scope.get(NOTE + ".failed"):
            message["body"] = failed if not scope.get(NOTE + ".sent") else b""
            message["more_body"] = False
            scope[NOTE + ".sent"] = True

    return before_send
