"""Typed configuration: settings (conf/bms.toml), scenarios and device profiles.

``load_settings``, ``load_scenario`` and ``load_profile`` raise or return
every problem as ``file: section.key: message``.
"""

from bms.config._load import (
    CONF_DIR,
    LoadedScenario,
    available_profiles,
    decode,
    kind_of,
    load_profile,
    load_scenario,
    load_settings,
    profile_dirs,
    read_toml,
    scenario_path,
)
from bms.config._schema import (
    ApiSection,
    BacnetBinding,
    BacnetNetwork,
    DeviceSpec,
    GuardSpec,
    HistorySection,
    HistorySpec,
    ModbusBinding,
    ModbusNetwork,
    PointSpec,
    Profile,
    Scenario,
    Settings,
    SiteSpec,
    SpaceSpec,
    VirtualBinding,
)

__all__ = [
    "CONF_DIR",
    "ApiSection",
    "BacnetBinding",
    "BacnetNetwork",
    "DeviceSpec",
    "GuardSpec",
    "HistorySection",
    "HistorySpec",
    "LoadedScenario",
    "ModbusBinding",
    "ModbusNetwork",
    "PointSpec",
    "Profile",
    "Scenario",
    "Settings",
    "SiteSpec",
    "SpaceSpec",
    "VirtualBinding",
    "available_profiles",
    "decode",
    "kind_of",
    "load_profile",
    "load_scenario",
    "load_settings",
    "profile_dirs",
    "read_toml",
    "scenario_path",
]
