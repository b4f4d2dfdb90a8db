"""AsyncHistoryReader answers as HistoryReader does, from an event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bms.errors import StoreError
from bms.history import AsyncHistoryReader, HistoryReader, HistoryWriter, _query
from tests.bms.history.conftest import T0, pv


def test_the_async_reader_gives_the_same_answers(writer: HistoryWriter, db: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    writer.append(pv(p, float(i), T0 + 60 * i) for i in range(200) for p in ("ahu1/sat", "ahu1/rat"))
    writer.append([pv("ahu1/mode", "heat", T0)])
    monkeypatch.setattr(_query, "PAGE", 7)  # several CSV pages

    async def main() -> dict[str, object]:
        async with AsyncHistoryReader(db) as reader:
            raw, rollup, auto, last, points = await asyncio.gather(
                reader.raw("ahu1/sat", T0, T0 + 3600, limit=50),
                reader.rollup("ahu1/sat", T0, T0 + 12000, "15m"),
                reader.rollup("ahu1/rat", T0, T0 + 12000),
                reader.last("ahu1/mode", 2),
                reader.points(),
            )
            csv = [line async for line in reader.csv("ahu1/sat", T0, T0 + 12000, "raw")]
            return {"raw": raw, "rollup": rollup, "auto": auto, "last": last, "points": points, "csv": csv}

    got = asyncio.run(main())
    with HistoryReader(db) as sync:
        assert got == {
            "raw": sync.raw("ahu1/sat", T0, T0 + 3600, limit=50),
            "rollup": sync.rollup("ahu1/sat", T0, T0 + 12000, "15m"),
            "auto": sync.rollup("ahu1/rat", T0, T0 + 12000),
            "last": sync.last("ahu1/mode", 2),
            "points": sync.points(),
            "csv": list(sync.csv("ahu1/sat", T0, T0 + 12000, "raw")),
        }
    assert len(got["csv"]) == 1 + 200  # type: ignore[arg-type]


def test_the_async_reader_reports_a_missing_file_and_closes_twice(tmp_path: Path) -> None:
    async def main() -> None:
        reader = AsyncHistoryReader(tmp_path / "history.db")
        with pytest.raises(StoreError, match="no history database"):
            await reader.points()
        await reader.close()
        await reader.close()

    asyncio.run(main())
