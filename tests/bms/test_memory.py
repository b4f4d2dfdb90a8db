"""Handing the heap's free memory back: glibc keeps what Python frees until it is trimmed."""

from __future__ import annotations

import platform

import pytest

from bms.daemon import MemoryTrim, release_free_memory

GLIBC = platform.libc_ver()[0] == "glibc"


def rss_anon_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_memory_freed_between_live_objects_goes_back_to_the_system() -> None:
    blocks = [bytes(1024) + bytes([i % 256]) for i in range(64_000)]  # ~64 MB of malloc'd (> 512 B) objects
    kept = blocks[::64]  # every 64th stays: the heap cannot shrink from its top
    del blocks
    before = rss_anon_kb()
    assert release_free_memory() is True
    after = rss_anon_kb()
    assert before - after > 32_000, (before, after)  # most of the 63 MB freed is returned
    assert len(kept) == 1000


def test_a_trim_is_due_at_the_first_look_then_once_per_period() -> None:
    trim = MemoryTrim(every=60.0)
    assert trim.due(100.0) is True
    assert [trim.due(t) for t in (100.5, 130.0, 159.9)] == [False, False, False]
    assert trim.due(160.0) is True
    assert trim.due(200.0) is False
    assert trim.due(500.0) is True  # a late look trims once, not once per missed period
    assert trim.due(520.0) is False
    assert trim.trims == 3
