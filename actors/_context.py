"""What every actor is given: the registry, the clock, the supervisor, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors._health import HealthBoard
from actors._registry import Registry
from bms.clock import Clock, WallClock

if TYPE_CHECKING:
    from actors._supervisor import Supervisor
    from actors._ticker import Ticker
    from bms.components import MessageCatalog


@dataclass
class Context:
    registry: Registry
    clock: Clock
    health: HealthBoard
    supervisor: Supervisor
    ticker: Ticker
    data_dir: Path = Path(".")
    catalog: MessageCatalog | None = None  # every message type of the site (the platform's)
    extras: dict[str, Any] = field(default_factory=dict)


def make_context(clock: Clock | None = None, data_dir: Path | str = ".") -> Context:
    """A context with a fresh registry, health board, supervisor and ticker."""
    from actors._supervisor import Supervisor
    from actors._ticker import Ticker

    clk: Clock = clock or WallClock()
    registry = Registry()
    health = HealthBoard()
    ticker = Ticker(clk)
    ctx = Context(registry=registry, clock=clk, health=health, supervisor=None, ticker=ticker, data_dir=Path(data_dir))  # type: ignore[arg-type]
    ctx.supervisor = Supervisor(ctx)
    return ctx
