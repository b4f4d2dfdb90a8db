"""The component contract's pure parts: start order, the message catalog, settings sections, discovery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest

from bms.components import ANY_OTHER, Component, MessageCatalog, installed, start_plan
from bms.config import load_settings
from bms.errors import CodecError, ConfigError
from bms.messages import Message, Tick, ValueChanged, all_message_types


def comp(name: str, requires: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> Component:
    return Component(name=name, children=lambda _p: [], requires=requires, after=after)


def names(components: Any) -> list[str]:
    return [c.name for c in components]


# ---------------------------------------------------------------- start order


@pytest.mark.parametrize(("given", "order"), [
    ([comp("a"), comp("b"), comp("c")], ["a", "b", "c"]),  # no edges: the given order
    ([comp("points", ("nodes",)), comp("nodes")], ["nodes", "points"]),
    ([comp("api", after=(ANY_OTHER,)), comp("nodes"), comp("points", ("nodes",))], ["nodes", "points", "api"]),
    ([comp("bacnet", ("points",), ("sim",)), comp("points"), comp("sim")], ["points", "sim", "bacnet"]),
    ([comp("x", after=("absent",)), comp("y")], ["x", "y"]),  # `after` a missing component is no requirement
])
def test_components_start_after_what_they_require_and_follow(given: list[Component], order: list[str]) -> None:
    plan = start_plan(given)
    assert names(plan.order) == order
    assert plan.blocked == ()


def test_a_missing_requirement_blocks_that_component_and_what_needs_it_only() -> None:
    plan = start_plan([comp("nodes"), comp("alarms", ("points",)), comp("notify", ("alarms",)), comp("history", ("nodes",))])
    assert names(plan.order) == ["nodes", "history"]
    assert plan.problems() == [
        "component alarms: requires 'points', which is not installed",
        "component notify: requires 'alarms', which cannot start",
    ]


def test_a_requirement_that_failed_to_load_is_named_as_such() -> None:
    plan = start_plan([comp("reports", ("energy",))], unavailable=["energy"])
    assert plan.problems() == ["component reports: requires 'energy', which could not be loaded"]


def test_a_cycle_is_one_line_naming_its_members_and_the_rest_starts() -> None:
    plan = start_plan([comp("nodes"), comp("b", ("c",)), comp("c", ("d",)), comp("d", ("b",)), comp("e", ("c",))])
    assert names(plan.order) == ["nodes"]
    problems = dict(line.split(": ", 1) for line in plan.problems())
    assert problems["component b"] == "requirement cycle: b -> c -> d -> b"
    assert problems["component d"] == "requirement cycle: b -> c -> d -> b"
    assert problems["component e"] == "waits on 'c', caught in a requirement cycle"


def test_after_edges_that_form_a_cycle_are_reported_too() -> None:
    plan = start_plan([comp("a", after=("b",)), comp("b", after=("a",))])
    assert plan.order == ()
    assert len(plan.blocked) == 2


# ------------------------------------------------------------------- catalog


class Greeted(Message, frozen=True):
    who: str


class Twin(Message, frozen=True, tag="Greeted"):
    other: int


def test_the_catalog_decodes_core_and_component_messages_alike() -> None:
    catalog = MessageCatalog([*all_message_types(), Greeted])
    assert Greeted in catalog and ValueChanged in catalog
    assert catalog.decode(b'{"type": "Greeted", "who": "ops"}') == Greeted(who="ops")
    assert catalog.decode(msgspec.json.encode(Tick(timer="t", due=1.0, now=1.5))) == Tick(timer="t", due=1.0, now=1.5)


@pytest.mark.parametrize(("data", "says"), [
    (b'{"type": "Nope"}', "Nope"),
    (b'{"type": "Greeted", "who": 3}', "$.who"),
    (b'{"type": "Greeted"', "cannot decode"),
])
def test_the_catalog_names_what_it_cannot_decode(data: bytes, says: str) -> None:
    with pytest.raises(CodecError, match=says.replace("$", r"\$")):
        MessageCatalog([Greeted]).decode(data)


def test_two_messages_with_one_tag_are_refused_naming_both() -> None:
    with pytest.raises(TypeError, match=r"Greeted.*test_components\.Greeted and .*test_components\.Twin"):
        MessageCatalog([Greeted, Twin])


def test_the_catalog_gives_each_message_a_schema() -> None:
    schemas = MessageCatalog([Greeted, ValueChanged]).schemas()
    assert schemas["Greeted"]["properties"]["who"] == {"type": "string"}
    assert "PointValue" in schemas  # nested Structs come along


# ---------------------------------------------------------- settings sections


class PumpSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    stages: Annotated[int, msgspec.Meta(ge=1, le=8)] = 2
    lead: str = "p1"


def test_a_components_section_is_decoded_into_its_own_struct(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text('[log]\nlevel = "debug"\n[pumps]\nstages = 3\n')
    settings, _ = load_settings(path, sections={"pumps": PumpSettings})
    assert settings.log.level == "debug"
    assert settings.sections["pumps"] == PumpSettings(stages=3)
    pumps = Component(name="pumps", children=lambda _p: [], settings=PumpSettings)
    assert pumps.settings_from(settings.sections) == PumpSettings(stages=3)
    assert pumps.settings_from({}) == PumpSettings()  # no section: its defaults


def test_every_settings_problem_is_one_line_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text('[pumps]\nstages = 9\nleed = "p2"\n[pump]\nx = 1\n[log]\nlevel = "loud"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, sections={"pumps": PumpSettings})
    problems = caught.value.problems
    assert any(p.startswith(f"{path}: pumps.stages:") and "8" in p for p in problems)
    assert f"{path}: pumps.leed: unknown key (did you mean 'lead'?)" in problems
    assert f"{path}: pump: unknown key (did you mean 'pumps'?)" in problems
    assert any(p.startswith(f"{path}: log.level:") for p in problems)
    assert len(problems) == 4


def test_a_component_cannot_take_a_core_section(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text("")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, sections={"log": PumpSettings})
    assert caught.value.problems == [f"{path}: settings section [log] belongs to the core; a component cannot declare it"]


# ---------------------------------------------------------------- discovery


def test_the_shipped_components_are_installed_with_their_requirements_met() -> None:
    found = installed()
    assert found.broken == []
    assert {"nodes", "history", "points", "bacnet", "modbus", "devices", "api", "sim-bacnet", "sim-modbus"} <= set(found.names())
    plan = start_plan(found.components)
    assert plan.blocked == ()
    order = names(plan.order)
    assert order.index("nodes") < order.index("history") < order.index("points") < order.index("bacnet")
    assert order[-1] == "api"


def _dist(site: Path, name: str, module: str, code: str, entry: str) -> None:
    (site / f"{module}.py").write_text(code)
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[bms.components]\n{entry}\n")


def test_a_component_that_cannot_be_loaded_is_one_line_and_hides_no_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dist(tmp_path, "bms-broken", "bms_broken", "import no_such_module_here\n", "broken = bms_broken:COMPONENT")
    _dist(tmp_path, "bms-wrong", "bms_wrong", "COMPONENT = 42\n", "wrong = bms_wrong:COMPONENT")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = installed()
    reasons = {b.name: b.reason for b in found.broken}
    assert reasons["broken"].startswith("cannot be loaded from bms_broken:COMPONENT (bms-broken): ModuleNotFoundError:")
    assert "no_such_module_here" in reasons["broken"]
    assert reasons["wrong"] == "bms_wrong:COMPONENT (bms-wrong) is a int, not a Component"
    assert "nodes" in found.names()


def test_isolated_a_bad_component_section_is_set_aside_and_the_rest_loads(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text('[log]\nlevel = "debug"\n[pumps]\nstages = 0\nleed = 1\n')
    settings, _ = load_settings(path, sections={"pumps": PumpSettings}, isolate=True)
    assert settings.log.level == "debug"
    assert "pumps" not in settings.sections
    assert sorted(line.split(": ", 2)[1] for line in settings.broken["pumps"]) == ["pumps.leed", "pumps.stages"]


@pytest.mark.parametrize("text", ['[log]\nlevel = "loud"\n[pumps]\nstages = 0\n', "[pumpz]\nstages = 1\n"])
def test_isolated_the_cores_problems_and_unknown_sections_still_refuse_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bms.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_settings(path, sections={"pumps": PumpSettings}, isolate=True)
