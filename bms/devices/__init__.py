"""Field devices, whatever their protocol: liveness, and commissioning.

* :class:`DeviceLiveness` -- the Unknown / Up / Down state machine with
  backoff that both bridges keep per device; :func:`liveness_health` -- a
  bridge's component health from its devices.

Plain classes and functions, no threads: the bridges and the devices
service in ``actors/`` own them.
"""

from bms.devices._liveness import DeviceLiveness, LivenessState, liveness_health

__all__ = ["DeviceLiveness", "LivenessState", "liveness_health"]
