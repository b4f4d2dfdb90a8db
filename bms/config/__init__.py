"""Typed configuration: settings (conf/bms.toml), scenarios and device profiles.

``load_settings``, ``load_scenario`` and ``load_profile`` raise or return
every problem of a file at once, each as ``file: section.key: message``:
unknown keys (with "did you mean"), wrong types, values outside the ranges
declared on the Structs, and the cross-references of a scenario (profiles,
networks, spaces, duplicate ids, the time zone). ``find_profile`` looks a
profile up by name. A scenario's device is a ``DeviceSpec``: a
``BacnetDevice``, ``ModbusDevice`` or ``VirtualDevice`` by its ``protocol``.
"""

from bms.config._load import CONF_DIR, kind_of, load_settings, read_toml, scenario_path
from bms.config._profiles import available_profiles, find_profile, load_profile, profile_dirs
from bms.config._scenario import LoadedScenario, load_scenario, timezone_problem
from bms.config._schema import (
    ApiSection,
    BacnetBinding,
    BacnetDevice,
    BacnetNetwork,
    DeviceSpec,
    GuardSpec,
    HistorySection,
    HistorySpec,
    ModbusBinding,
    ModbusDevice,
    ModbusNetwork,
    PointSpec,
    Profile,
    Scenario,
    Settings,
    SiteSpec,
    SpaceSpec,
    VirtualBinding,
    VirtualDevice,
)
from bms.config._walk import Decoded, decode, walk

__all__ = [
    "CONF_DIR",
    "ApiSection",
    "BacnetBinding",
    "BacnetDevice",
    "BacnetNetwork",
    "Decoded",
    "DeviceSpec",
    "GuardSpec",
    "HistorySection",
    "HistorySpec",
    "LoadedScenario",
    "ModbusBinding",
    "ModbusDevice",
    "ModbusNetwork",
    "PointSpec",
    "Profile",
    "Scenario",
    "Settings",
    "SiteSpec",
    "SpaceSpec",
    "VirtualBinding",
    "VirtualDevice",
    "available_profiles",
    "decode",
    "find_profile",
    "kind_of",
    "load_profile",
    "load_scenario",
    "load_settings",
    "profile_dirs",
    "read_toml",
    "scenario_path",
    "timezone_problem",
    "walk",
]
