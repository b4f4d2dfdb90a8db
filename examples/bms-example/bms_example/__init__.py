"""bms-example: the points whose values change most, as a bms component.

This file is the component's descriptor and nothing heavier: ``bms`` reads
it to find commands and settings sections, and the platform calls
``_children`` when it starts the component.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from bms.components import Component
from bms.messages import Message


class ExampleSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``[example]`` in the settings file."""

    top: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5


class BusiestPoints(Message, frozen=True):
    """Query: the ``top`` points whose value changed most since the component started."""

    top: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None


class PointChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    point_id: str
    changes: int


class Busiest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Reply to BusiestPoints."""

    points: tuple[PointChanges, ...]
    total: int


def _children(platform: Any) -> list[Any]:
    from actors import ChildSpec
    from bms_example._counter import ChangeCounter

    return [ChildSpec("example", ChangeCounter, kwargs={"settings": platform.section("example")})]


def _api(services: Any) -> Any:
    from bms_example._api import ServicesGateway, example_router

    return example_router(ServicesGateway(services))


def _commands() -> list[Any]:
    from bms_example._cli import example

    return [example]


def _shell() -> list[Any]:
    from bms_example._cli import busiest_word

    return [busiest_word]


COMPONENT = Component(
    name="example",
    children=_children,
    requires=("points",),
    settings=ExampleSettings,
    messages=(BusiestPoints,),
    api=_api,
    commands=_commands,
    shell=_shell,
    description="counts value changes per point and answers with the busiest points",
)
