"""A discovery scan through the daemon, its progress followed while its request waits.

The scan's request (``POST /api/devices/discover``) waits for the whole
scan; its progress comes on the live stream (``GET /api/stream?scan=ID``),
which ends with the scan. Both run at once on one asyncio loop (no thread):
the stream is opened first, so no step is missed, and every
:class:`~bms.messages.DiscoveryProgress` is handed to ``progress`` as it
comes. A stream that cannot be opened costs the progress, not the scan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import msgspec

from bms.client._errors import error_for, server_message
from bms.client._stream import CONNECTED, SseLines
from bms.errors import CodecError, DaemonError
from bms.messages import DeviceRecord, DiscoveryProgress, DiscoveryScanComplete

DISCOVER = "/api/devices/discover"
Progress = Callable[[DiscoveryProgress], None]


async def _follow(http: httpx.AsyncClient, scan: str, progress: Progress, ready: asyncio.Event) -> None:
    """Hand the scan's progress to ``progress`` until it ends; ``ready`` once the stream is live (or lost)."""
    try:
        async with http.stream("GET", "/api/stream", params={"scan": scan},
                               timeout=httpx.Timeout(http.timeout.connect, read=None)) as response:
            if response.status_code >= 400:
                return
            events = SseLines()
            async for line in response.aiter_lines():
                if line == CONNECTED:
                    ready.set()
                message = events.feed(line)
                if isinstance(message, DiscoveryProgress):
                    progress(message)
                elif isinstance(message, DiscoveryScanComplete):
                    return
    except (httpx.HTTPError, msgspec.DecodeError):
        return  # the progress is lost, the scan goes on
    finally:
        ready.set()


async def _discover(base_url: str, headers: Mapping[str, str], timeout: float, body: dict[str, Any],
                    wait: float, progress: Progress) -> list[DeviceRecord]:
    async with httpx.AsyncClient(base_url=base_url, headers=dict(headers), timeout=timeout) as http:
        ready = asyncio.Event()
        follower = asyncio.create_task(_follow(http, str(body["scan"]), progress, ready))
        try:
            with contextlib.suppress(TimeoutError):  # a stream that does not open costs the progress only
                await asyncio.wait_for(ready.wait(), timeout)
            try:
                response = await http.post(DISCOVER, content=msgspec.json.encode(body),
                                           headers={"Content-Type": "application/json"}, timeout=wait)
            except httpx.ConnectError:
                raise DaemonError(f"no bms daemon answers at {base_url}") from None
            except httpx.TimeoutException:
                raise DaemonError(f"the daemon did not answer POST {DISCOVER} in time") from None
            except httpx.HTTPError as err:
                raise DaemonError(f"POST {DISCOVER} failed: {err}") from err
            if response.status_code >= 400:
                raise error_for(response.status_code, server_message(response.content, response.status_code))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(follower), 1.0)  # the scan's last steps, if still coming
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
    try:
        return msgspec.json.decode(response.content, type=list[DeviceRecord])
    except msgspec.DecodeError as err:
        raise CodecError(f"unexpected reply from the daemon: {err}") from err


def discover_following(base_url: str, headers: Mapping[str, str], timeout: float, body: dict[str, Any],
                       wait: float, progress: Progress) -> list[DeviceRecord]:
    """``POST /api/devices/discover`` with ``body`` (its ``scan`` set), its progress to ``progress``."""
    return asyncio.run(_discover(base_url, headers, timeout, body, wait, progress))
