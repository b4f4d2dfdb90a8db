"""The client side of the live stream: Server-Sent Events decoded into messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from bms.errors import DaemonError
from bms.messages import decode

CONNECTED = ": connected"


class SseLines:
    """Server-Sent Events, line by line: the message each event's ``data:`` lines carry (``decoder``: the core's
    messages by default; a component's stream passes its own)."""

    def __init__(self, decoder: Callable[[str], Any] = decode) -> None:
        self._data: list[str] = []
        self._decode = decoder

    def feed(self, line: str) -> Any:
        """The message an event ends with at this (empty) line, else None."""
        if not line:
            if not self._data:
                return None
            text, self._data = "\n".join(self._data), []
            return self._decode(text)
        if line.startswith("data:"):
            self._data.append(line[5:].removeprefix(" "))
        # comments (":"), "event:", "id:" and "retry:" lines carry nothing we use
        return None


class EventStream:
    """Live ValueChanged/StatusChanged (and a scan's DiscoveryProgress) messages from the daemon.

    Made by :meth:`ApiClient.stream`, which returns once the daemon has
    confirmed the subscription: every change after that arrives. Iterate
    for messages; iteration ends when the daemon closes the stream. Close
    it (or use ``with``) to stop.
    """

    def __init__(self, response: httpx.Response, decoder: Callable[[str], Any] = decode) -> None:
        self._response = response
        self._decoder = decoder
        self._lines = response.iter_lines()
        self.closed = False
        try:
            first = next(self._lines, None)
        except httpx.HTTPError as err:
            self.close()
            raise DaemonError(f"the daemon's live stream did not open: {err}") from err
        if first != CONNECTED:
            self.close()
            raise DaemonError("the daemon's live stream did not confirm the subscription")

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        events = SseLines(self._decoder)
        try:
            for line in self._lines:
                message = events.feed(line)
                if message is not None:
                    return message
        except httpx.ReadTimeout:
            raise DaemonError("the daemon's live stream went silent (no keep-alive)") from None
        except httpx.HTTPError as err:
            raise DaemonError(f"the daemon's live stream broke: {err}") from err
        raise StopIteration

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._response.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
