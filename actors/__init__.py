"""The actor layer: supervised Pykka actors, the registry, the ticker, assembly.

``bms/`` holds what happens; this package holds who runs it, when, and on
which thread.
"""

from actors._base import BmsActor, handles, is_refusal
from actors._context import Context, make_context
from actors._health import HealthBoard
from actors._later import Later
from actors._loop import LoopThread
from actors._registry import LOSSLESS, Registry, Subscription, drop_oldest, latest, merged
from actors._served import ServedThread
from actors._supervisor import ChildSpec, Supervisor
from actors._ticker import Ticker

__all__ = [
    "LOSSLESS",
    "BmsActor",
    "ChildSpec",
    "Context",
    "HealthBoard",
    "Later",
    "LoopThread",
    "Registry",
    "ServedThread",
    "Subscription",
    "Supervisor",
    "Ticker",
    "drop_oldest",
    "handles",
    "is_refusal",
    "latest",
    "make_context",
    "merged",
]
