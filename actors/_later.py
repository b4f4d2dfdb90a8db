"""Answers that come later: an ask that waits on I/O is answered from where the I/O ends.

A handler whose answer needs a device (a read on a bridge's loop) or a long
scan must not wait for it on the actor's thread: the actor would handle no
tick, event or other ask meanwhile. It starts the work on a loop and returns
``Later(future)``; the actor goes on with its mailbox, and the caller's
reply is set when ``future`` completes, from whichever thread completes it:

* a result answers the caller;
* an exception is the caller's answer too, never a failure of the actor
  (the actor has moved on; a :class:`~bms.errors.DeviceTimeout` is a
  refusal like any BmsError);
* a future cancelled (the loop stopped under it) answers
  :class:`~bms.errors.Unavailable`.

A ``Later`` returned to a ``tell`` has nobody to answer: an exception is
logged.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pykka

from bms.errors import Unavailable


class Later:
    """The answer of an ask, due when ``future`` completes."""

    __slots__ = ("future", "what")

    def __init__(self, future: concurrent.futures.Future[Any], what: str = "the request") -> None:
        self.future = future
        self.what = what

    def settle(self, reply: pykka.Future[Any] | None, log: Any) -> None:
        """Answer ``reply`` (None: a tell, log a failure) once the future completes."""
        what = self.what

        def done(future: concurrent.futures.Future[Any]) -> None:
            if future.cancelled():
                err: BaseException | None = Unavailable(f"{what} was cancelled: the service stopped")
            else:
                err = future.exception()
            if reply is None:
                if err is not None:
                    log.warning("a later answer failed", what=what, error=str(err) or repr(err))
                return
            if err is None:
                reply.set(future.result())
            else:
                reply.set_exception((type(err), err, err.__traceback__))

        self.future.add_done_callback(done)
