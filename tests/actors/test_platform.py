"""The platform assembles components through the contract: order, settings, and Down with one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pykka
import pytest

from actors import BmsActor, ChildSpec, handles
from actors.platform import Platform
from bms.clock import ManualClock
from bms.components import Broken, Component, installed
from bms.config import Settings, load_scenario
from bms.errors import ConfigError
from bms.messages import Message
from tests.conftest import ROOT

SITE = ROOT / "tests/data/site.toml"


class Knock(Message, frozen=True):
    pass


class Doorbell(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    tune: str = "ding"


class Door(BmsActor):
    def __init__(self, name: str, ctx: Any, tune: str) -> None:
        super().__init__(name, ctx)
        self.tune = tune

    @handles(Knock)
    def knock(self, _msg: Knock) -> str:
        return self.tune


def door(platform: Platform) -> list[ChildSpec]:
    return [ChildSpec("door", Door, kwargs={"tune": platform.section("doorbell").tune})]


def shipped(*names: str) -> list[Component]:
    by_name = {c.name: c for c in installed().components}
    return [by_name[n] for n in names]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    made: list[Platform] = []

    def build(components: list[Component], settings: Settings | None = None, broken: list[Broken] | None = None) -> Platform:
        platform = Platform(settings or Settings(), load_scenario(SITE), tmp_path, clock=ManualClock(),
                            components=components, broken=broken or [])
        made.append(platform)
        platform.start()
        return platform

    try:
        yield build
    finally:
        for p in made:
            p.stop()
        pykka.ActorRegistry.stop_all(block=True, timeout=5)


def states(platform: Platform) -> dict[str, tuple[str, str]]:
    return {h.component: (h.state, h.reason) for h in platform.ctx.health.snapshot()}


def test_a_component_starts_with_its_own_settings_section_and_messages(make: Any) -> None:
    bell = Component(name="doorbell", children=door, requires=("nodes",), settings=Doorbell, messages=(Knock,))
    platform = make([bell, *shipped("nodes")], Settings(sections={"doorbell": Doorbell(tune="dong")}))
    assert platform.started == ["nodes", "door"]  # nodes first: doorbell requires it
    assert platform.ctx.registry.get("door").ask(Knock(), timeout=5) == "dong"
    assert Knock in platform.catalog and platform.ctx.catalog is platform.catalog
    assert states(platform)["door"][0] == "Healthy"


def test_broken_blocked_and_failing_components_are_down_with_one_line_and_the_site_runs(make: Any) -> None:
    def refuses(_p: Platform) -> list[ChildSpec]:
        raise ConfigError("doorbell.tune: no such tune 'brrr'")

    def crashes(_p: Platform) -> list[ChildSpec]:
        raise RuntimeError("wiring fault")

    platform = make(
        [*shipped("nodes"),
         Component(name="refuses", children=refuses),
         Component(name="crashes", children=crashes),
         Component(name="orphan", children=door, requires=("alarms",)),
         Component(name="loop-a", children=door, requires=("loop-b",)),
         Component(name="loop-b", children=door, requires=("loop-a",)),
         Component(name="needs-broken", children=door, requires=("energy",))],
        broken=[Broken("energy", "cannot be loaded from bms_energy:COMPONENT: ImportError: numpy")],
    )
    got = states(platform)
    assert got["nodes"][0] == "Healthy"
    assert got["refuses"] == ("Down", "doorbell.tune: no such tune 'brrr'")
    assert got["crashes"] == ("Down", "could not be assembled: RuntimeError: wiring fault")
    assert got["orphan"] == ("Down", "requires 'alarms', which is not installed")
    assert got["loop-a"] == ("Down", "requirement cycle: loop-a -> loop-b -> loop-a")
    assert got["energy"] == ("Down", "cannot be loaded from bms_energy:COMPONENT: ImportError: numpy")
    assert got["needs-broken"] == ("Down", "requires 'energy', which could not be loaded")
    assert platform.started == ["nodes"]
