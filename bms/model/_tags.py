"""Auto-tagging: Haystack-style markers suggested from a point's name, type and unit.

The name is split into words ("SupplyAirTemp", "SAT_SP" and "Supply Air
Temp" all work), each word maps to markers (``SAT`` -> supply, air, temp).
Then:

* ``air`` is added when a temperature, humidity, pressure, flow, CO2 or
  damper point names an air-side place (supply, zone, duct...) and not water;
* ``run`` is added to the status of a fan, pump or compressor;
* the point's function is at most one of ``sp``, ``cmd``, ``sensor``: a
  setpoint word wins, then a command word or an output object (BACnet
  ``*-output``, a Modbus coil) gives ``cmd``; an input object (``*-input``,
  Modbus discrete or input register), a status word or a measured quantity
  (from the name or the unit) gives ``sensor``.

Units add their quantity: kW -> power, kWh -> energy, °C -> temp, %RH ->
humidity, Pa -> pressure, ppm -> co2, L/s -> flow, A -> current, V -> volt.
"""

from __future__ import annotations

import itertools
import re

_WORDS: dict[str, tuple[str, ...]] = {
    # places
    "supply": ("supply",), "sa": ("supply", "air"),
    "return": ("return",), "ra": ("return", "air"),
    "mixed": ("mixed",), "mix": ("mixed",), "ma": ("mixed", "air"),
    "outside": ("outside",), "outdoor": ("outside",), "oa": ("outside", "air"),
    "discharge": ("discharge",), "da": ("discharge", "air"),
    "exhaust": ("exhaust",), "ea": ("exhaust", "air"),
    "zone": ("zone",), "zn": ("zone",), "room": ("zone",), "space": ("zone",),
    "duct": ("duct",),
    # substances
    "air": ("air",), "water": ("water",), "chilled": ("chilled",), "hot": ("hot",),
    "chw": ("chilled", "water"), "hw": ("hot", "water"),
    # quantities
    "temp": ("temp",), "temperature": ("temp",), "tmp": ("temp",),
    "humidity": ("humidity",), "rh": ("humidity",),
    "pressure": ("pressure",), "press": ("pressure",),
    "flow": ("flow",), "airflow": ("air", "flow"), "cfm": ("flow",),
    "co2": ("co2",), "speed": ("speed",), "spd": ("speed",),
    "power": ("power",), "demand": ("power",), "kw": ("power",),
    "energy": ("energy",), "kwh": ("energy",), "consumption": ("energy",),
    "current": ("current",), "amps": ("current",), "voltage": ("volt",), "volts": ("volt",),
    "frequency": ("freq",), "freq": ("freq",),
    "sat": ("supply", "air", "temp"), "rat": ("return", "air", "temp"), "mat": ("mixed", "air", "temp"),
    "oat": ("outside", "air", "temp"), "dat": ("discharge", "air", "temp"), "znt": ("zone", "air", "temp"),
    "zat": ("zone", "air", "temp"),
    # equipment parts
    "damper": ("damper",), "dmpr": ("damper",), "valve": ("valve",), "vlv": ("valve",),
    "fan": ("fan",), "pump": ("pump",), "compressor": ("compressor",), "filter": ("filter",),
    # functions and modes
    "setpoint": ("sp",), "sp": ("sp",), "stpt": ("sp",), "spt": ("sp",),
    "command": ("cmd",), "cmd": ("cmd",),
    "status": ("sensor",), "sts": ("sensor",),
    "enable": ("enable",), "alarm": ("alarm",),
    "heating": ("heating",), "heat": ("heating",), "cooling": ("cooling",), "cool": ("cooling",),
    "occupied": ("occupied",), "occ": ("occupied",), "occupancy": ("occupied",),
}

_AIR_PLACES = frozenset({"supply", "return", "mixed", "outside", "discharge", "exhaust", "zone", "duct"})
_AIR_QUANTITIES = frozenset({"temp", "humidity", "pressure", "flow", "co2", "damper"})
_MEASURED = frozenset({"temp", "humidity", "pressure", "flow", "co2", "speed", "power", "energy", "current", "volt", "freq"})
_MOTORS = frozenset({"fan", "pump", "compressor"})

_UNITS: dict[str, str] = {
    "kw": "power", "w": "power", "mw": "power", "kilowatts": "power", "watts": "power",
    "kwh": "energy", "wh": "energy", "mwh": "energy", "kilowatthours": "energy", "watthours": "energy",
    "°c": "temp", "°f": "temp", "degc": "temp", "degf": "temp", "degreescelsius": "temp", "degreesfahrenheit": "temp",
    "%rh": "humidity", "percentrelativehumidity": "humidity",
    "pa": "pressure", "kpa": "pressure", "bar": "pressure", "inh2o": "pressure", "inwc": "pressure", "pascals": "pressure",
    "kilopascals": "pressure", "inchesofwater": "pressure",
    "ppm": "co2", "partspermillion": "co2",
    "l/s": "flow", "m³/h": "flow", "m3/h": "flow", "cfm": "flow", "literspersecond": "flow",
    "cubicmetersperhour": "flow", "cubicfeetperminute": "flow",
    "a": "current", "amperes": "current", "v": "volt", "volts": "volt", "hz": "freq", "hertz": "freq",
    "rpm": "speed", "revolutionsperminute": "speed",
}

_OUTPUTS = frozenset({"analogoutput", "binaryoutput", "multistateoutput", "ao", "bo", "mo", "mso", "coil", "coils"})
_INPUTS = frozenset({
    "analoginput", "binaryinput", "multistateinput", "ai", "bi", "mi", "msi",
    "discrete", "discreteinput", "discreteinputs", "input", "inputregister", "inputregisters",
})

_SPLIT = re.compile(r"[A-Z]+[0-9]*(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")


def _words(name: str) -> list[str]:
    """Lower-case words of a name: camel case, abbreviations and separators split."""
    found: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", name):
        if chunk.lower() in _WORDS:  # "CO2", "kWh" whole
            found.append(chunk.lower())
        else:
            found.extend(w.lower() for w in _SPLIT.findall(chunk))
    return found


def suggest_tags(name: str, object_type: str | None = None, unit: str | None = None) -> set[str]:
    """Markers suggested for a point called ``name``.

    ``object_type`` is a BACnet object type ("analog-input", "analog-input,3")
    or a Modbus table ("coil", "discrete", "input", "holding"); ``unit`` as
    written in a profile ("kW", "°C") or a BACnet unit name ("kilowatts").
    """
    words = _words(name)
    tags: set[str] = set()
    for word in words:
        tags.update(_WORDS.get(word) or _WORDS.get(word.rstrip("0123456789"), ()))
    if any(a == "set" and b == "point" for a, b in itertools.pairwise(words)):
        tags.add("sp")
    unit_key = re.sub(r"[\s_-]+", "", (unit or "").lower())
    quantity = _UNITS.get(unit_key)
    if quantity is not None:
        tags.add(quantity)
    if tags & _AIR_QUANTITIES and tags & _AIR_PLACES and "water" not in tags:
        tags.add("air")
    if "sensor" in tags and tags & _MOTORS:
        tags.add("run")

    kind = re.sub(r"[\s_-]+", "", (object_type or "").split(",")[0].lower())
    if "sp" in tags:
        tags -= {"cmd", "sensor"}
    elif "cmd" in tags or kind in _OUTPUTS:
        tags.add("cmd")
        tags.discard("sensor")
    elif kind in _INPUTS or tags & _MEASURED:
        tags.add("sensor")
    return tags
