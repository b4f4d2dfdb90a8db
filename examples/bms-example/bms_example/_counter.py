"""``ChangeCounter``: counts ValueChanged values per point (a plain Counter in a supervised actor)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from actors import BmsActor, handles, merged
from bms.messages import ValueChanged
from bms_example import Busiest, BusiestPoints, ExampleSettings, PointChanges


class ChangeCounter(BmsActor):
    def __init__(self, name: str, ctx: Any, settings: ExampleSettings) -> None:
        super().__init__(name, ctx)
        self.settings = settings
        self.counts: Counter[str] = Counter()

    def setup(self) -> None:
        self.counts = Counter()
        self.subscribe(ValueChanged, merged(10_000))  # lossless; queued batches are joined under load

    @handles(ValueChanged)
    def on_values(self, batch: ValueChanged) -> None:
        self.counts.update(v.point_id for v in batch.values)

    @handles(BusiestPoints)
    def busiest(self, query: BusiestPoints) -> Busiest:
        top = query.top or self.settings.top
        return Busiest(points=tuple(PointChanges(p, n) for p, n in self.counts.most_common(top)),
                       total=sum(self.counts.values()))
