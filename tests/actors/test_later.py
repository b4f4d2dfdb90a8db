"""Answers that come later: the actor goes on while an ask's I/O runs; what the I/O ends with is the answer."""

from __future__ import annotations

import concurrent.futures

import msgspec
import pykka
import pytest

from actors import BmsActor, ChildSpec, Context, Later, handles
from bms.errors import DeviceTimeout, Unavailable


class Slow(msgspec.Struct, frozen=True):
    """Answered when the test completes ``pending[key]``."""

    key: str


class Quick(msgspec.Struct, frozen=True):
    pass


class Waiter(BmsActor):
    def __init__(self, name: str, ctx: Context, pending: dict[str, concurrent.futures.Future[object]]) -> None:
        super().__init__(name, ctx)
        self.pending = pending

    @handles(Slow)
    def slow(self, msg: Slow) -> Later:
        future: concurrent.futures.Future[object] = concurrent.futures.Future()
        self.pending[msg.key] = future
        return Later(future, f"slow {msg.key}")

    @handles(Quick)
    def quick(self, _msg: Quick) -> str:
        return "quick"


def test_a_later_answer_leaves_the_actor_free_and_its_error_is_the_callers_alone(ctx: Context) -> None:
    pending: dict[str, concurrent.futures.Future[object]] = {}
    ref = ctx.supervisor.start_child(ChildSpec("waiter", Waiter, kwargs={"pending": pending}))
    assert ref is not None
    answers = {key: ref.ask(Slow(key), block=False) for key in ("ok", "late", "gone")}
    assert ref.ask(Quick(), timeout=1.0) == "quick"  # the three asks still wait: the actor does not
    with pytest.raises(pykka.Timeout):
        answers["ok"].get(timeout=0)
    pending["ok"].set_result(42)
    pending["late"].set_exception(DeviceTimeout("no answer within 1 s"))
    pending["gone"].cancel()
    assert answers["ok"].get(timeout=1.0) == 42
    with pytest.raises(DeviceTimeout, match="no answer"):
        answers["late"].get(timeout=1.0)
    with pytest.raises(Unavailable, match="slow gone was cancelled"):
        answers["gone"].get(timeout=1.0)
    status = ctx.health.get("waiter")
    assert status is not None and status.restarts == 0 and status.last_error == ""
    assert ref.ask(Quick(), timeout=1.0) == "quick"
