"""The component contract: how a component describes itself to the platform.

A component is a package exporting one :class:`Component` through the
``bms.components`` entry-point group (in its ``setup.cfg``)::

    [options.entry_points]
    bms.components =
        example = bms_example:COMPONENT

The platform gathers the installed descriptors (:func:`installed`), orders
them by ``requires`` / ``after`` (:func:`start_plan`), validates each
settings section, gathers their messages into a :class:`MessageCatalog`,
their API routers into the local API and their commands into ``bms`` and
the shell. A component that cannot be loaded, or whose requirements are
missing, is Down with one line; the rest of the site runs. See
``examples/bms-example`` for a whole one.
"""

from bms.components._catalog import MessageCatalog
from bms.components._descriptor import ANY_OTHER, Component
from bms.components._discovery import COMMANDS, GROUP, Broken, Installed, by_name, installed, installed_commands
from bms.components._order import Blocked, StartPlan, start_plan

__all__ = [
    "ANY_OTHER",
    "COMMANDS",
    "GROUP",
    "Blocked",
    "Broken",
    "Component",
    "Installed",
    "MessageCatalog",
    "StartPlan",
    "by_name",
    "installed",
    "installed_commands",
    "start_plan",
]
