"""Field devices, whatever their protocol: is each one answering?

* :class:`DeviceLiveness` -- the Unknown / Up / Down state machine with
  backoff that both bridges (BACnet and Modbus) keep per device;
  :class:`LivenessState` its states.
* :func:`liveness_health` -- a bridge's component health from its devices.
* :class:`ScanTally` -- a discovery scan's progress reports as
  :class:`~bms.messages.DiscoveryProgress` events with running counts;
  :func:`scan_seconds` how long a scan may take, :func:`unit_ids` the unit
  ids a Modbus probe tries.

Commissioning (discovery, probe, accept, ignore, remove) is :class:`bms.bacnet.Commissioning`.
Plain classes and functions, no threads: the bridges in ``actors/`` own them.
"""

from bms.devices._liveness import DeviceLiveness, LivenessState, liveness_health
from bms.devices._scan import ScanTally, scan_seconds, unit_ids

__all__ = ["DeviceLiveness", "LivenessState", "ScanTally", "liveness_health", "scan_seconds", "unit_ids"]
