"""``CommandDesk``: command requests carried out against the site's services, as the user they map to.

A request is admitted (allow-list, decoding: :func:`bms.export.admit`),
its bms user is looked up in the ``auth`` service (disabled users and
unknown ones are refused), the command's permission is checked, and writes
and releases go through the point store's priority arrays with the same
checks as the API (:func:`bms.auth.command_refusal` for the role's priority
ceiling and scope, :func:`bms.auth.release_refusal` for others' levels).
Every outcome becomes one audit row (origin ``mqtt``). A write whose device
answer is awaited is :class:`Pending` until its ``WriteResult`` comes or its
wait runs out.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec

from actors._context import Context
from bms.alarms import AckAlarms, AlarmView, ListAlarms
from bms.audit import AuditEntry, RecordAudit
from bms.auth import Identity, command_refusal, release_refusal
from bms.auth.messages import Authenticate, ShowUser, UserDetail
from bms.errors import BmsError, NotFound, PermissionDenied, ServiceUnavailable
from bms.export import PERMISSION, Command, CommandResponse, MqttSection, admit
from bms.logic.messages import BundleVersion, DeployBundle, RollbackBundle
from bms.messages import (
    GetNode,
    GetPoint,
    GetPriorityArray,
    ListPoints,
    PointState,
    PriorityArrayView,
    RelinquishPoint,
    WriteAccepted,
    WritePoint,
)
from bms.model import Node

ASK_TIMEOUT = 5.0
MAX_DEPTH = 32
ORIGIN = "mqtt"


@dataclass
class Pending:
    """A write accepted into the priority array, waiting for the device's answer."""

    command: Command
    correlation_id: str
    deadline: float
    accepted: WriteAccepted
    before: dict[str, Any] = field(default_factory=dict)


@dataclass
class Answer:
    """What a command gives back now (``pending``: later, when the device answers)."""

    response: CommandResponse | None = None
    pending: Pending | None = None


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode() if value else ""


class CommandDesk:
    def __init__(self, ctx: Context, section: MqttSection, status: Any) -> None:
        self.ctx = ctx
        self.section = section
        self.status = status  # () -> SiteStatus
        # request ids of writes asked of the point store: their WriteResult may be published before the
        # ask returns, so the subscription lets these through (the actor handles them after the ask)
        self.expected: set[str] = set()

    # --------------------------------------------------------------- asking
    def ask(self, service: str, message: Any) -> Any:
        ref = self.ctx.registry.find(service)
        if ref is None:
            raise ServiceUnavailable(service)
        return ref.ask(message, timeout=ASK_TIMEOUT)

    def identity(self, user: str) -> Identity:
        try:
            detail: UserDetail = self.ask("auth", ShowUser(name=user))
        except NotFound:
            raise PermissionDenied(f"bms user {user!r} does not exist") from None
        if detail.user.disabled:
            raise PermissionDenied(f"bms user {user!r} is disabled")
        return Identity(user=user, role=detail.role, token="mqtt")

    # ----------------------------------------------------------------- run
    def run(self, name: str, payload: bytes, correlation_id: str, now: float) -> Answer:
        """Carry out one request; a refusal raises (BmsError, one line) and the caller answers it."""
        cmd = admit(name, payload, self.section.commands, self.section.command_points, self.section.users,
                    self.section.default_user)
        if cmd.request.token:
            who: Identity = self.ask("auth", Authenticate(token=cmd.request.token))
            cmd = dataclasses.replace(cmd, user=who.user)
        else:
            who = self.identity(cmd.user)
        needed = PERMISSION[name]
        if not who.may(needed):
            raise PermissionDenied(f"user {who.user!r} (role {who.role.name}) may not {name}: "
                                   f"it needs the permission {needed!r}")
        req = cmd.request
        ok = CommandResponse(correlation_id=correlation_id, command=name, ok=True, ts=now, user=who.user)
        if name == "write":
            return self._write(cmd, who, correlation_id, now, ok)
        if name == "release":
            return Answer(self._release(cmd, who, ok))
        if name == "read":
            points = self._read((req.point, *req.points) if req.point else req.points)
            self.audit(cmd, now, target=",".join(p.point_id for p in points[:20]))
            return Answer(msgspec.structs.replace(ok, points=tuple(points)))
        if name == "status":
            self.audit(cmd, now)
            return Answer(msgspec.structs.replace(ok, status=self.status()))
        if name == "ack":
            views: list[AlarmView] = self.ask("alarms", AckAlarms(alarm_ids=req.alarm_ids, user=who.user))
            acked = tuple(v.alarm_id for v in views)
            self.audit(cmd, now, target=",".join(req.alarm_ids), after=_json({"acked": acked}))
            return Answer(msgspec.structs.replace(ok, acked=acked))
        if name == "deploy":
            version: BundleVersion = self.ask("logic", DeployBundle(data=req.bundle, user=who.user))
        else:
            version = self.ask("logic", RollbackBundle(user=who.user))
        self.audit(cmd, now, target=version.version, after=_json(version))
        return Answer(msgspec.structs.replace(ok, bundle=version))

    def _ancestry(self, point_id: str) -> list[str]:
        chain, node_id = [point_id], point_id
        for _ in range(MAX_DEPTH):
            try:
                node: Node = self.ask("nodes", GetNode(node_id=node_id))
            except NotFound:
                break
            if not node.parent:
                break
            chain.append(node.parent)
            node_id = node.parent
        return chain

    def _may_command(self, who: Identity, point_id: str, priority: int) -> None:
        ancestry = self._ancestry(point_id) if who.role.scope is not None else [point_id]
        refusal = command_refusal(who, priority, ancestry)
        if refusal:
            raise PermissionDenied(refusal)

    def _held(self, point_id: str, priority: int) -> dict[str, Any]:
        try:
            view: PriorityArrayView = self.ask("points", GetPriorityArray(point_id=point_id))
        except BmsError:
            return {}
        if not 1 <= priority <= len(view.levels):
            return {}
        return {"priority": priority, "value": view.levels[priority - 1], "user": view.users[priority - 1] or None}

    def _write(self, cmd: Command, who: Identity, cid: str, now: float, ok: CommandResponse) -> Answer:
        req = cmd.request
        self._may_command(who, req.point, req.priority)
        before = self._held(req.point, req.priority)
        request_id = uuid.uuid4().hex
        self.expected.add(request_id)
        try:
            accepted: WriteAccepted = self.ask("points", WritePoint(
                point_id=req.point, value=req.value, priority=req.priority, duration=req.duration, user=who.user,
                request_id=request_id))
        except BaseException:
            self.expected.discard(request_id)
            raise
        wait = self.section.write_wait if req.wait is None else max(0.0, req.wait)
        if accepted.request_id and wait > 0:
            self.expected.add(accepted.request_id)
            return Answer(pending=Pending(cmd, cid, now + wait, accepted, before))
        self.expected.discard(request_id)
        self.audit(cmd, now, target=req.point, before=_json(before), after=_json(self._after(cmd, accepted)))
        return Answer(msgspec.structs.replace(ok, accepted=accepted))

    @staticmethod
    def _after(cmd: Command, accepted: WriteAccepted) -> dict[str, Any]:
        req = cmd.request
        after: dict[str, Any] = {"priority": req.priority, "value": req.value, "user": cmd.user,
                                 "effective": accepted.effective}
        if req.duration is not None:
            after["duration"] = req.duration
        if accepted.device is not None:
            after["device"] = "ok" if accepted.device.ok else accepted.device.error
        return after

    def settle(self, pending: Pending, accepted: WriteAccepted, now: float) -> CommandResponse:
        """The response of a write whose device answered (``accepted.device``) or whose wait ran out."""
        cmd = pending.command
        self.expected.discard(accepted.request_id or "")
        failed = accepted.device is not None and not accepted.device.ok
        detail = accepted.device.error if failed and accepted.device is not None else ""
        self.audit(cmd, now, target=cmd.request.point, before=_json(pending.before),
                   after=_json(self._after(cmd, accepted)), outcome="failed" if failed else "done", detail=detail)
        return CommandResponse(correlation_id=pending.correlation_id, command=cmd.name, ok=not failed, ts=now,
                               user=cmd.user, error=detail, accepted=accepted)

    def _release(self, cmd: Command, who: Identity, ok: CommandResponse) -> CommandResponse:
        req = cmd.request
        self._may_command(who, req.point, req.priority)
        held = self._held(req.point, req.priority)
        refusal = release_refusal(who, held.get("user") or "")
        if refusal:
            raise PermissionDenied(refusal)
        accepted: WriteAccepted = self.ask("points", RelinquishPoint(
            point_id=req.point, priority=req.priority, user=who.user, request_id=uuid.uuid4().hex))
        self.audit(cmd, ok.ts, target=req.point, before=_json(held),
                   after=_json({"priority": req.priority, "value": None, "effective": accepted.effective}))
        return msgspec.structs.replace(ok, accepted=accepted)

    def _read(self, wanted: tuple[str, ...]) -> list[PointState]:
        out: list[PointState] = []
        for one in wanted:
            if any(c in one for c in "*?["):
                found: list[PointState] = self.ask("points", ListPoints(pattern=one))
                out += [p for p in found if fnmatch.fnmatchcase(p.point_id, one)]
            else:
                out.append(self.ask("points", GetPoint(point_id=one)))
        return out

    # --------------------------------------------------------------- audit
    def audit(self, cmd: Command | None, now: float, *, name: str = "", user: str = "", target: str = "",
              before: str = "", after: str = "", outcome: str = "done", detail: str = "") -> None:
        """One audit row (told, not asked: the audit writer commits it in order with the others)."""
        ref = self.ctx.registry.find("audit")
        if ref is None:
            return
        entry = AuditEntry(at=now, user=(cmd.user if cmd else user) or "(unknown)", origin=ORIGIN,
                           action=f"mqtt.{cmd.name if cmd else name}", target=target, token=ORIGIN, before=before,
                           after=after, outcome=outcome, detail=detail[:500])
        ref.tell(RecordAudit(entry=entry))

    def active_alarms(self) -> tuple[int, int]:
        """(active, unacknowledged) alarms, (0, 0) without an alarm engine."""
        try:
            views: list[AlarmView] = self.ask("alarms", ListAlarms(active=True))
        except Exception:  # no alarm engine, or one that does not answer: the status goes out without counts
            return 0, 0
        return len(views), sum(1 for v in views if not v.acked)
