"""``Recorder``: the history writer that never drops silently what it was given.

It writes each batch through a :class:`HistoryWriter`; while the database
cannot take writes (disk full, locked, corrupt, read-only, deleted) it holds
the values in a bounded :class:`Backlog` in arrival order and, on each
:meth:`retry`, writes them oldest first, so history catches up by itself
with no gap once the cause goes away. What the bound forces out is counted
as lost. A file deleted or replaced while open (SQLite would go on writing
to the unlinked file) is noticed by :meth:`check_file`, reopened, and the
values written since the previous check are counted as lost.

Plain: no threads; the history actor owns one and turns its
:class:`Outage` and counters into health and log lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bms.clock import Clock
from bms.errors import StoreError
from bms.history._backlog import Backlog
from bms.history._writer import HistoryWriter
from bms.messages import PointValue

CATCH_UP_CHUNK = 50_000  # values per transaction while catching up


@dataclass(frozen=True)
class Outage:
    reason: str
    since: float


@dataclass(frozen=True)
class Recovery:
    written: int  # values held during the outage, now on disk
    seconds: float


class Recorder:
    def __init__(self, open_writer: Callable[[], HistoryWriter], backlog: Backlog, clock: Clock) -> None:
        self._open = open_writer
        self.backlog = backlog
        self.clock = clock
        self.writer: HistoryWriter | None = None
        self.outage: Outage | None = None
        self.stored = 0
        self._since_check = 0  # values written since the file was last checked
        self._held_total = 0  # values held during the current outage
        self.writer = self._open()  # a file that cannot be opened at start refuses the start

    @property
    def lost(self) -> int:
        return self.backlog.lost

    def record(self, values: Sequence[PointValue]) -> int:
        """Write ``values`` (after anything held); returns how many values had to be dropped now."""
        if not values:
            return 0
        if self.outage is None and not self.backlog:
            try:
                self._write(values)
                return 0
            except StoreError as err:
                self._begin(str(err))
        self._held_total += len(values)
        return self.backlog.hold(values)

    def retry(self) -> Recovery | None:
        """Write what is held, oldest first; a Recovery when the outage is over."""
        if self.outage is None and not self.backlog:
            return None
        try:
            while self.backlog:
                chunk = self.backlog.oldest(CATCH_UP_CHUNK)
                self._write(chunk)
                self.backlog.written(len(chunk))
        except StoreError as err:
            if self.outage is None:
                self._begin(str(err))
            elif str(err) != self.outage.reason:
                self.outage = Outage(str(err), self.outage.since)
            return None
        now = self.clock.now()
        done = Recovery(self._held_total, now - (self.outage.since if self.outage is not None else now))
        self.outage = None
        self._held_total = 0
        return done

    def check_file(self) -> tuple[str, int] | None:
        """(why, values lost) when the file was deleted or replaced while open: it is reopened."""
        if self.writer is None:
            return None
        why = self.writer.detached()
        if why is None:
            self._since_check = 0
            return None
        lost = self._since_check
        self._since_check = 0
        self.backlog.lost += lost
        self._reopen()
        return why, lost

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # ---------------------------------------------------------------- inside

    def _write(self, values: Sequence[PointValue]) -> None:
        if self.writer is None:
            self._reopen()
        assert self.writer is not None
        n = self.writer.append(values)
        self.stored += n
        self._since_check += n

    def _reopen(self) -> None:
        self.close()
        try:
            self.writer = self._open()
        except StoreError:
            self.writer = None
            raise

    def _begin(self, reason: str) -> None:
        self.outage = Outage(reason, self.clock.now())
        self._held_total = 0
