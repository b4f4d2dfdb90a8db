"""The components bms ships, one package each.

Each package's ``__init__`` exports its descriptor, ``COMPONENT`` (a
:class:`bms.components.Component`), registered in ``setup.cfg`` under the
``bms.components`` entry-point group; third-party components register
theirs the same way. A descriptor is cheap to import: the actor modules
(``_store.py``, ``_bridge.py``...) load when the platform starts the
component, and the package's public names load on first use
(:func:`lazy_exports`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy(module: str, name: str) -> Callable[..., Any]:
    """``name`` of ``module``, imported on the first call: a descriptor names its factories without loading them."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = f"lazy({module}:{name})"
    return call


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from its private module on first use."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module, package), name)

    return __getattr__
