"""The private pykka hooks our supervised actor overrides: if a pykka release changes them, this fails loudly.

``BmsActor`` replaces pykka's receive loop (``_actor_loop_setup``,
``_actor_loop_running``), its inbox (``_create_actor_inbox``) and relies on
``_handle_receive`` and ``_actor_loop`` calling them in that order. None of
these is public API; setup.cfg pins pykka below 5, and this test is the
alarm for a 4.x release that moves them.
"""

from __future__ import annotations

import inspect
import queue
import threading
from typing import Any

import pykka
import pytest

from actors import BmsActor, ChildSpec, Context, handles
from bms.messages import Message
from tests.conftest import wait_until

HOOKS = {
    "_actor_loop": "(self) -> 'None'",
    "_actor_loop_setup": "(self) -> 'None'",
    "_actor_loop_running": "(self) -> 'None'",
    "_actor_loop_teardown": "(self) -> 'None'",
    "_handle_receive": "(self, message: 'Any') -> 'Any'",
    "_create_actor_inbox": "() -> 'ActorInbox'",
}


@pytest.mark.parametrize(("hook", "signature"), sorted(HOOKS.items()))
def test_pykka_still_has_the_hook_we_override(hook: str, signature: str) -> None:
    found = getattr(pykka.ThreadingActor, hook, None)
    assert found is not None, f"pykka.ThreadingActor.{hook} is gone: actors/_base.py must follow pykka"
    assert str(inspect.signature(found)) == signature, f"pykka changed {hook}: actors/_base.py must follow"


def test_pykkas_loop_still_runs_setup_running_teardown_in_that_order() -> None:
    source = inspect.getsource(pykka.Actor._actor_loop)
    calls = [line.strip() for line in source.splitlines() if line.strip().startswith("self._actor_loop_")]
    assert calls == ["self._actor_loop_setup()", "self._actor_loop_running()", "self._actor_loop_teardown()"]


class Ping2(Message, frozen=True):
    fail: bool = False


class Probe(BmsActor):
    seen: list[bool] = []
    thread: list[str] = []

    def setup(self) -> None:
        Probe.thread.append(threading.current_thread().name)

    @handles(Ping2)
    def on(self, msg: Ping2) -> None:
        if msg.fail:
            raise RuntimeError("handler failed")
        Probe.seen.append(msg.fail)


def test_the_overrides_take_effect(ctx: Context) -> None:
    Probe.seen, Probe.thread = [], []
    ref: Any = ctx.supervisor.start_child(ChildSpec("probe", Probe))
    assert ref is not None
    assert isinstance(ref.actor_inbox, queue.SimpleQueue)  # _create_actor_inbox
    assert Probe.thread and Probe.thread[0] != threading.current_thread().name  # setup() ran in the actor
    ref.tell(Ping2(fail=True))  # plain pykka would stop the actor and drop what follows
    ref.tell(Ping2())
    wait_until(lambda: Probe.seen == [False], what="the next message handled after a failing tell")
    assert ref.is_alive()
