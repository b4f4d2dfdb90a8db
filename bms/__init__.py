"""bms: building-management supervisory runtime.

The pure domain lives here (no threads, no actors); ``actors`` runs it.
"""

__version__ = "0.1.0"
