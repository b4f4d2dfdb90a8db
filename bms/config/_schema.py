"""Typed configuration: daemon settings, scenarios and device profiles.

Files are TOML decoded into these Structs by :mod:`bms.config._walk`, which
collects every error as ``file: section.key: message``. Every bounded field
declares its range here with ``msgspec.Meta`` (the aliases below); the
loader has no range checks of its own. A scenario's device is a tagged union on its
``protocol`` key: each variant has only its own fields.

Point ids are ``{device}/{point key}``; the point key comes from the profile.

Modbus scale convention: ``value = raw * scale + offset`` on read and
``raw = (value - offset) / scale`` (rounded for integer types) on write.
Modbus ``order`` names the byte layout of multi-register values, A being the
most significant byte: ABCD big-endian (the Modbus norm), CDAB word-swapped,
BADC byte-swapped within each register, DCBA little-endian. For 64-bit
values the same four names apply register-wise (ABCD = big-endian words and
bytes, CDAB = words reversed, BADC = bytes swapped in each word, DCBA =
fully little-endian).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

import msgspec
from msgspec import Meta

from bms.config._alarms import AlarmDefinition, AlarmSpec
from bms.schedules._spec import ScheduleSpec

Value = Union[float, int, bool, str, None]

# Ranges, declared once: the collecting walk (bms.config._walk) reads them to
# word a violation as "must be 1..65535, got 99999".
Port = Annotated[int, Meta(ge=1, le=65535)]
ListenPort = Annotated[int, Meta(ge=0, le=65535)]  # 0: any free port
Seconds = Annotated[float, Meta(gt=0)]  # intervals and timeouts
Days = Annotated[float, Meta(gt=0)]
Count = Annotated[int, Meta(ge=0)]  # retries, gaps
Positive = Annotated[int, Meta(ge=1)]
Register = Annotated[int, Meta(ge=0, le=65535)]  # 0-based Modbus protocol address
Bit = Annotated[int, Meta(ge=0, le=15)]
UnitId = Annotated[int, Meta(ge=0, le=247)]  # 0 is broadcast; 248..255 reserved
MaxRegisters = Annotated[int, Meta(ge=1, le=125)]  # FC3/FC4 request limit
MaxBits = Annotated[int, Meta(ge=1, le=2000)]  # FC1/FC2 request limit
DeviceInstance = Annotated[int, Meta(ge=0, le=4194302)]  # 4194303 is the wildcard
Priority = Annotated[int, Meta(ge=1, le=16)]  # BACnet command priority
BaudRate = Annotated[int, Meta(ge=300, le=921_600)]
TimeToLive = Annotated[int, Meta(ge=1, le=65535)]  # BACnet foreign-device registration (Unsigned16 seconds)
IdPart = Annotated[str, Meta(pattern=r"^[^/]+$", description="non-empty, without '/'")]  # a part of a point id

ModbusTable = Literal["coil", "discrete", "input", "holding"]
ModbusType = Literal[
    "bool", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"
]
ByteOrder = Literal["ABCD", "CDAB", "BADC", "DCBA"]
PointKind = Literal["number", "bool", "enum", "text"]


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


# ------------------------------------------------------------------- profiles


class ModbusBinding(_Strict, frozen=True):
    table: ModbusTable
    address: Register  # 0-based protocol address (register 40001 is holding 0)
    type: ModbusType = "uint16"
    order: ByteOrder | None = None  # None: the device's order
    bit: Bit | None = None  # extract one bit (0 = LSB) of a 16-bit register
    scale: float = 1.0
    offset: float = 0.0


class BacnetBinding(_Strict, frozen=True):
    object: str  # "analog-input,1" (type,instance)
    property: str = "present-value"
    cov: bool = False  # subscribe to COV instead of polling


class VirtualBinding(_Strict, frozen=True):
    initial: Value = None


class HistorySpec(_Strict, frozen=True):
    cov: bool = True  # record every change that passes the COV filter
    interval: Seconds | None = None  # also record every N seconds


class GuardSpec(_Strict, frozen=True):
    min: float | None = None
    max: float | None = None
    max_writes_per_minute: Annotated[float, Meta(gt=0)] | None = None
    interlock: str | None = None  # boolean expression over other points


class PointSpec(_Strict, frozen=True):
    key: IdPart  # the {object} part of the point id
    name: str
    kind: PointKind = "number"
    unit: str = ""
    writable: bool = False
    cov_increment: Annotated[float, Meta(ge=0)] = 0.0
    stale_after: Seconds | None = None  # seconds without update -> stale
    tags: list[str] = []
    states: list[str] = []  # names of multi-state values (kind = "enum")
    history: HistorySpec = HistorySpec()
    guard: GuardSpec | None = None
    relinquish_default: Value = None
    command_priority: Priority = 8  # BACnet priority the bridge writes at
    modbus: ModbusBinding | None = None
    bacnet: BacnetBinding | None = None
    virtual: VirtualBinding | None = None
    alarms: list[AlarmSpec] = []  # this point's alarms on every device of the profile (other points by key)


class Profile(_Strict, frozen=True):
    name: str
    protocol: Literal["bacnet", "modbus", "virtual"]
    equip: str = ""  # equipment type tag: ahu, vav, meter...
    description: str = ""
    vendor: str = ""
    model: str = ""
    points: list[PointSpec] = []


# ------------------------------------------------------------------ scenarios


class SiteSpec(_Strict, frozen=True):
    id: str
    name: str
    timezone: str = "UTC"  # an IANA name of the system's tzdata, checked on load
    area_m2: Annotated[float, Meta(gt=0)] | None = None


class SpaceSpec(_Strict, frozen=True):
    id: str
    name: str
    parent: str | None = None  # another space id; None = the site


class BacnetNetwork(_Strict, frozen=True):
    address: str = "127.0.0.1/8:47809"  # our client's address/mask:port
    device_port: Port = 47808  # where devices listen (Who-Is goes there)
    broadcast: str = "127.255.255.255"
    bbmd: str | None = None  # "host:port" for foreign-device registration
    bbmd_ttl: TimeToLive = 300
    poll_interval: Seconds = 5.0
    timeout: Seconds = 3.0
    retries: Count = 1
    concurrency: Positive = 8  # devices polled at once
    # seconds between reads of each device's system status, database revision and time of restart;
    # a device that restarted is sent its commands again
    restart_check: Seconds = 60.0
    # device alarms: our address joins each device's Notification Class recipient-lists (when the bridge
    # first reaches it and after it recovers), with confirmed or unconfirmed notifications; "off": never
    event_recipient: Literal["confirmed", "unconfirmed", "off"] = "confirmed"


class ModbusNetwork(_Strict, frozen=True):
    kind: Literal["tcp", "rtu"] = "tcp"
    serial_port: str | None = None  # rtu: /dev/ttyUSB0
    baudrate: BaudRate = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    poll_interval: Seconds = 5.0  # a device's own poll_interval wins
    timeout: Seconds = 1.0
    retries: Count = 1


class _Device(_Strict, frozen=True, tag_field="protocol"):
    """What every device has; ``protocol`` (the TOML key) picks the variant."""

    protocol: ClassVar[Literal["bacnet", "modbus", "virtual"]]
    id: IdPart
    profile: str
    name: str = ""
    network: str = "default"
    space: str | None = None
    enabled: bool = True
    poll_interval: Seconds | None = None  # None: the network's


class BacnetDevice(_Device, frozen=True, tag="bacnet"):
    protocol: ClassVar[Literal["bacnet"]] = "bacnet"
    address: str | None = None  # device IP ("127.0.0.2") or IP:port
    device_instance: DeviceInstance | None = None  # required; checked with the scenario's cross-references


class ModbusDevice(_Device, frozen=True, tag="modbus"):
    protocol: ClassVar[Literal["modbus"]] = "modbus"
    host: str | None = None  # None on an RTU network
    port: Port = 502
    unit_id: UnitId = 1
    order: ByteOrder = "ABCD"
    max_registers: MaxRegisters = 125
    max_bits: MaxBits = 2000
    max_gap: Count = 10  # unused addresses read through to join two blocks
    timeout: Seconds | None = None  # None: the network's
    retries: Count | None = None


class VirtualDevice(_Device, frozen=True, tag="virtual"):
    protocol: ClassVar[Literal["virtual"]] = "virtual"


DeviceSpec = Union[BacnetDevice, ModbusDevice, VirtualDevice]
"""A scenario's device: a tagged union on its ``protocol`` key."""


class SimulateSpec(_Strict, frozen=True):
    """Start the bundled simulators with the daemon (the demo)."""

    enabled: bool = False
    bacnet_base_address: str = "127.0.0.2"  # first device address
    modbus_port: Port = 15020
    # faults the simulated air handlers start with, by device id: { ahu1 = ["damper-stuck"] } (bms.sim._thermal)
    faults: dict[str, list[Literal["damper-stuck", "cooling-valve-leak", "mat-drift"]]] = {}


class Networks(_Strict, frozen=True):
    bacnet: dict[str, BacnetNetwork] = {}
    modbus: dict[str, ModbusNetwork] = {}


class Scenario(_Strict, frozen=True):
    site: SiteSpec
    spaces: list[SpaceSpec] = []
    networks: Networks = Networks()
    devices: list[DeviceSpec] = []
    simulate: SimulateSpec = SimulateSpec()
    profile_dirs: list[str] = []  # extra folders searched for profiles
    alarms: list[AlarmDefinition] = []  # the site's own alarms (whole point ids)
    schedules: list[ScheduleSpec] = []  # the site's schedules, put into schedules.db when first met


# ------------------------------------------------------------------- daemon


class DaemonSection(_Strict, frozen=True):
    data_dir: str = "~/.local/share/bms"
    scenario: str = "scenarios/demo.toml"  # relative to the settings file


class ApiSection(_Strict, frozen=True):
    host: str = "127.0.0.1"
    port: ListenPort = 8787
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1_048_576


class LogSection(_Strict, frozen=True):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"
    file: str | None = None


class RetentionSection(_Strict, frozen=True):
    raw_days: Days = 90.0
    rollup_15m_days: Days = 400.0
    rollup_1h_days: Days = 1100.0
    rollup_1d_days: Days = 3650.0


class HistorySection(_Strict, frozen=True):
    retention: RetentionSection = RetentionSection()
    batch_max: Positive = 10_000
    # values held in memory while history.db cannot be written (disk full, locked, corrupt);
    # past it the oldest are dropped and counted as lost (about 80 bytes each)
    backlog_max_values: Positive = 1_000_000


class Settings(_Strict, frozen=True):
    """The loaded settings: the core's sections and the components' (``sections``, by section name).

    A component reads its own with ``Component.settings_from(settings.sections)``.
    """

    daemon: DaemonSection = DaemonSection()
    log: LogSection = LogSection()
    sections: dict[str, Any] = {}
    broken: dict[str, tuple[str, ...]] = {}  # component section -> its problems (loaded with ``isolate``)
