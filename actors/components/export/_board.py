"""``ExportBoard`` (the ``export`` service): the latest status of every export target, for the API and CLI.

Targets tell it their :class:`~bms.export.TargetStatus` on every tick; it
never asks them, so a busy or dead target cannot slow an answer.
"""

from __future__ import annotations

from typing import Any

from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from bms.export import ListTargets, TargetStatus
from bms.supervision import Health, RestartPolicy

NAME = "export"


class ExportBoard(BmsActor):
    def __init__(self, name: str, ctx: Any) -> None:
        super().__init__(name, ctx)
        self.targets: dict[str, TargetStatus] = {}

    def setup(self) -> None:
        self.ctx.supervisor.report(self.name, Health.HEALTHY, "export status board")

    @handles(TargetStatus)
    def on_status(self, status: TargetStatus) -> None:
        self.targets[status.name] = status

    @handles(ListTargets)
    def list_targets(self, _query: ListTargets) -> list[TargetStatus]:
        return [self.targets[name] for name in sorted(self.targets)]


def board_component(_platform: Any) -> list[ChildSpec]:
    return [ChildSpec(NAME, ExportBoard, policy=RestartPolicy())]
