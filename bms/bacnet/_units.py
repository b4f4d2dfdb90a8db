"""BACnet engineering units: every standard code with its name and symbol.

Codes and names are the ``BACnetEngineeringUnits`` enumeration as bacpypes3
0.0.110 defines it (ASHRAE 135, codes 0..251 and 253); the symbols are ours,
written the way an operator expects to read them next to a value. Codes from
256 up are vendor-proprietary and have no symbol here.

>>> unit_symbol(62), unit_symbol("kilowatt-hours"), unit_code("°F")
('°C', 'kWh', 64)
"""

from __future__ import annotations

from collections.abc import Mapping

NO_UNITS = 95
"""The ``no-units`` code: a unitless value."""

UNITS: Mapping[int, tuple[str, str]] = {
    0: ("square-meters", "m²"),
    1: ("square-feet", "ft²"),
    2: ("milliamperes", "mA"),
    3: ("amperes", "A"),
    4: ("ohms", "Ω"),
    5: ("volts", "V"),
    6: ("kilovolts", "kV"),
    7: ("megavolts", "MV"),
    8: ("volt-amperes", "VA"),
    9: ("kilovolt-amperes", "kVA"),
    10: ("megavolt-amperes", "MVA"),
    11: ("volt-amperes-reactive", "var"),
    12: ("kilovolt-amperes-reactive", "kvar"),
    13: ("megavolt-amperes-reactive", "Mvar"),
    14: ("degrees-phase", "°"),
    15: ("power-factor", "PF"),
    16: ("joules", "J"),
    17: ("kilojoules", "kJ"),
    18: ("watt-hours", "Wh"),
    19: ("kilowatt-hours", "kWh"),
    20: ("btus", "BTU"),
    21: ("therms", "thm"),
    22: ("ton-hours", "ton·h"),
    23: ("joules-per-kilogram-dry-air", "J/kg(da)"),
    24: ("btus-per-pound-dry-air", "BTU/lb(da)"),
    25: ("cycles-per-hour", "cph"),
    26: ("cycles-per-minute", "cpm"),
    27: ("hertz", "Hz"),
    28: ("grams-of-water-per-kilogram-dry-air", "g/kg(da)"),
    29: ("percent-relative-humidity", "%RH"),
    30: ("millimeters", "mm"),
    31: ("meters", "m"),
    32: ("inches", "in"),
    33: ("feet", "ft"),
    34: ("watts-per-square-foot", "W/ft²"),
    35: ("watts-per-square-meter", "W/m²"),
    36: ("lumens", "lm"),
    37: ("luxes", "lx"),
    38: ("foot-candles", "fc"),
    39: ("kilograms", "kg"),
    40: ("pounds-mass", "lb"),
    41: ("tons", "ton"),
    42: ("kilograms-per-second", "kg/s"),
    43: ("kilograms-per-minute", "kg/min"),
    44: ("kilograms-per-hour", "kg/h"),
    45: ("pounds-mass-per-minute", "lb/min"),
    46: ("pounds-mass-per-hour", "lb/h"),
    47: ("watts", "W"),
    48: ("kilowatts", "kW"),
    49: ("megawatts", "MW"),
    50: ("btus-per-hour", "BTU/h"),
    51: ("horsepower", "hp"),
    52: ("tons-refrigeration", "TR"),
    53: ("pascals", "Pa"),
    54: ("kilopascals", "kPa"),
    55: ("bars", "bar"),
    56: ("pounds-force-per-square-inch", "psi"),
    57: ("centimeters-of-water", "cmH₂O"),
    58: ("inches-of-water", "inH₂O"),
    59: ("millimeters-of-mercury", "mmHg"),
    60: ("centimeters-of-mercury", "cmHg"),
    61: ("inches-of-mercury", "inHg"),
    62: ("degrees-celsius", "°C"),
    63: ("degrees-kelvin", "K"),
    64: ("degrees-fahrenheit", "°F"),
    65: ("degree-days-celsius", "°C·d"),
    66: ("degree-days-fahrenheit", "°F·d"),
    67: ("years", "yr"),
    68: ("months", "mo"),
    69: ("weeks", "wk"),
    70: ("days", "d"),
    71: ("hours", "h"),
    72: ("minutes", "min"),
    73: ("seconds", "s"),
    74: ("meters-per-second", "m/s"),
    75: ("kilometers-per-hour", "km/h"),
    76: ("feet-per-second", "ft/s"),
    77: ("feet-per-minute", "ft/min"),
    78: ("miles-per-hour", "mph"),
    79: ("cubic-feet", "ft³"),
    80: ("cubic-meters", "m³"),
    81: ("imperial-gallons", "imp gal"),
    82: ("liters", "L"),
    83: ("us-gallons", "gal"),
    84: ("cubic-feet-per-minute", "cfm"),
    85: ("cubic-meters-per-second", "m³/s"),
    86: ("imperial-gallons-per-minute", "imp gal/min"),
    87: ("liters-per-second", "L/s"),
    88: ("liters-per-minute", "L/min"),
    89: ("us-gallons-per-minute", "gpm"),
    90: ("degrees-angular", "°"),
    91: ("degrees-celsius-per-hour", "°C/h"),
    92: ("degrees-celsius-per-minute", "°C/min"),
    93: ("degrees-fahrenheit-per-hour", "°F/h"),
    94: ("degrees-fahrenheit-per-minute", "°F/min"),
    95: ("no-units", ""),
    96: ("parts-per-million", "ppm"),
    97: ("parts-per-billion", "ppb"),
    98: ("percent", "%"),
    99: ("percent-per-second", "%/s"),
    100: ("per-minute", "/min"),
    101: ("per-second", "/s"),
    102: ("psi-per-degree-fahrenheit", "psi/°F"),
    103: ("radians", "rad"),
    104: ("revolutions-per-minute", "rpm"),
    105: ("currency1", "¤1"),
    106: ("currency2", "¤2"),
    107: ("currency3", "¤3"),
    108: ("currency4", "¤4"),
    109: ("currency5", "¤5"),
    110: ("currency6", "¤6"),
    111: ("currency7", "¤7"),
    112: ("currency8", "¤8"),
    113: ("currency9", "¤9"),
    114: ("currency10", "¤10"),
    115: ("square-inches", "in²"),
    116: ("square-centimeters", "cm²"),
    117: ("btus-per-pound", "BTU/lb"),
    118: ("centimeters", "cm"),
    119: ("pounds-mass-per-second", "lb/s"),
    120: ("delta-degrees-fahrenheit", "Δ°F"),
    121: ("delta-degrees-kelvin", "ΔK"),
    122: ("kilohms", "kΩ"),
    123: ("megohms", "MΩ"),
    124: ("millivolts", "mV"),
    125: ("kilojoules-per-kilogram", "kJ/kg"),
    126: ("megajoules", "MJ"),
    127: ("joules-per-degree-kelvin", "J/K"),
    128: ("joules-per-kilogram-degree-kelvin", "J/(kg·K)"),
    129: ("kilohertz", "kHz"),
    130: ("megahertz", "MHz"),
    131: ("per-hour", "/h"),
    132: ("milliwatts", "mW"),
    133: ("hectopascals", "hPa"),
    134: ("millibars", "mbar"),
    135: ("cubic-meters-per-hour", "m³/h"),
    136: ("liters-per-hour", "L/h"),
    137: ("kilowatt-hours-per-square-meter", "kWh/m²"),
    138: ("kilowatt-hours-per-square-foot", "kWh/ft²"),
    139: ("megajoules-per-square-meter", "MJ/m²"),
    140: ("megajoules-per-square-foot", "MJ/ft²"),
    141: ("watts-per-square-meter-degree-kelvin", "W/(m²·K)"),
    142: ("cubic-feet-per-second", "ft³/s"),
    143: ("percent-obscuration-per-foot", "%/ft"),
    144: ("percent-obscuration-per-meter", "%/m"),
    145: ("milliohms", "mΩ"),
    146: ("megawatt-hours", "MWh"),
    147: ("kilo-btus", "kBTU"),
    148: ("mega-btus", "MMBTU"),
    149: ("kilojoules-per-kilogram-dry-air", "kJ/kg(da)"),
    150: ("megajoules-per-kilogram-dry-air", "MJ/kg(da)"),
    151: ("kilojoules-per-degree-kelvin", "kJ/K"),
    152: ("megajoules-per-degree-kelvin", "MJ/K"),
    153: ("newton", "N"),
    154: ("grams-per-second", "g/s"),
    155: ("grams-per-minute", "g/min"),
    156: ("tons-per-hour", "ton/h"),
    157: ("kilo-btus-per-hour", "kBTU/h"),
    158: ("hundredths-seconds", "cs"),
    159: ("milliseconds", "ms"),
    160: ("newton-meters", "N·m"),
    161: ("millimeters-per-second", "mm/s"),
    162: ("millimeters-per-minute", "mm/min"),
    163: ("meters-per-minute", "m/min"),
    164: ("meters-per-hour", "m/h"),
    165: ("cubic-meters-per-minute", "m³/min"),
    166: ("meters-per-second-per-second", "m/s²"),
    167: ("amperes-per-meter", "A/m"),
    168: ("amperes-per-square-meter", "A/m²"),
    169: ("ampere-square-meters", "A·m²"),
    170: ("farads", "F"),
    171: ("henrys", "H"),
    172: ("ohm-meters", "Ω·m"),
    173: ("siemens", "S"),
    174: ("siemens-per-meter", "S/m"),
    175: ("teslas", "T"),
    176: ("volts-per-degree-kelvin", "V/K"),
    177: ("volts-per-meter", "V/m"),
    178: ("webers", "Wb"),
    179: ("candelas", "cd"),
    180: ("candelas-per-square-meter", "cd/m²"),
    181: ("degrees-kelvin-per-hour", "K/h"),
    182: ("degrees-kelvin-per-minute", "K/min"),
    183: ("joule-seconds", "J·s"),
    184: ("radians-per-second", "rad/s"),
    185: ("square-meters-per-newton", "m²/N"),
    186: ("kilograms-per-cubic-meter", "kg/m³"),
    187: ("newton-seconds", "N·s"),
    188: ("newtons-per-meter", "N/m"),
    189: ("watts-per-meter-per-degree-kelvin", "W/(m·K)"),
    190: ("micro-siemens", "µS"),
    191: ("cubic-feet-per-hour", "ft³/h"),
    192: ("us-gallons-per-hour", "gal/h"),
    193: ("kilometers", "km"),
    194: ("micrometers", "µm"),
    195: ("grams", "g"),
    196: ("milligrams", "mg"),
    197: ("milliliters", "mL"),
    198: ("milliliters-per-second", "mL/s"),
    199: ("decibels", "dB"),
    200: ("decibels-millivolt", "dBmV"),
    201: ("decibels-volt", "dBV"),
    202: ("millisiemens", "mS"),
    203: ("watt-hours-reactive", "varh"),
    204: ("kilowatt-hours-reactive", "kvarh"),
    205: ("megawatt-hours-reactive", "Mvarh"),
    206: ("millimeters-of-water", "mmH₂O"),
    207: ("per-mille", "‰"),
    208: ("grams-per-gram", "g/g"),
    209: ("kilograms-per-kilogram", "kg/kg"),
    210: ("grams-per-kilogram", "g/kg"),
    211: ("milligrams-per-gram", "mg/g"),
    212: ("milligrams-per-kilogram", "mg/kg"),
    213: ("grams-per-milliliter", "g/mL"),
    214: ("grams-per-liter", "g/L"),
    215: ("milligrams-per-liter", "mg/L"),
    216: ("micrograms-per-liter", "µg/L"),
    217: ("grams-per-cubic-meter", "g/m³"),
    218: ("milligrams-per-cubic-meter", "mg/m³"),
    219: ("micrograms-per-cubic-meter", "µg/m³"),
    220: ("nanograms-per-cubic-meter", "ng/m³"),
    221: ("grams-per-cubic-centimeter", "g/cm³"),
    222: ("becquerels", "Bq"),
    223: ("kilobecquerels", "kBq"),
    224: ("megabecquerels", "MBq"),
    225: ("gray", "Gy"),
    226: ("milligray", "mGy"),
    227: ("microgray", "µGy"),
    228: ("sieverts", "Sv"),
    229: ("millisieverts", "mSv"),
    230: ("microsieverts", "µSv"),
    231: ("microsieverts-per-hour", "µSv/h"),
    232: ("decibelsA", "dBA"),
    233: ("nephelometric-turbidity-unit", "NTU"),
    234: ("pH", "pH"),
    235: ("grams-per-square-meter", "g/m²"),
    236: ("minutes-per-degree-kelvin", "min/K"),
    237: ("ohm-meter-per-square-meter", "Ω·m/m²"),
    238: ("ampere-seconds", "A·s"),
    239: ("volt-ampere-hours", "VAh"),
    240: ("kilovolt-ampere-hours", "kVAh"),
    241: ("megavolt-ampere-hours", "MVAh"),
    242: ("volt-ampere-hours-reactive", "varh"),
    243: ("kilovolt-ampere-hours-reactive", "kvarh"),
    244: ("megavolt-ampere-hours-reactive", "Mvarh"),
    245: ("volts-square-hours", "V²h"),
    246: ("ampere-square-hours", "A²h"),
    247: ("joules-per-hours", "J/h"),
    248: ("cubic-feet-per-day", "ft³/d"),
    249: ("cubic-meters-per-day", "m³/d"),
    250: ("watt-hours-per-cubic-meter", "Wh/m³"),
    251: ("joules-per-cubic-meter", "J/m³"),
    253: ("pascal-seconds", "Pa·s"),
}

# Symbols shared by two codes resolve to the first code, except these.
_PREFERRED = {"°": 90, "": NO_UNITS}
# Spellings people type in profiles that are not our symbols.
_ALIASES = {
    "degC": 62, "degF": 64, "deg C": 62, "deg F": 64, "°K": 63, "l/s": 87, "l/min": 88, "l/h": 136,
    "m3/h": 135, "m3/s": 85, "m2": 0, "ft2": 1, "RH": 29, "% RH": 29, "%rh": 29, "ppm CO2": 96,
    "CFM": 84, "GPM": 89, "RPM": 104, "kvah": 240, "none": NO_UNITS,
}


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_BY_NAME: dict[str, int] = {}
for _code, (_name, _) in UNITS.items():
    _BY_NAME[_name] = _code
    _BY_NAME[_camel(_name)] = _code
_BY_SYMBOL: dict[str, int] = {}
for _code, (_, _symbol) in UNITS.items():
    _BY_SYMBOL.setdefault(_symbol, _code)
_BY_SYMBOL.update(_PREFERRED)


def _lookup(code_or_name: int | str) -> int | None:
    if isinstance(code_or_name, bool):
        return None
    if isinstance(code_or_name, int):
        return code_or_name if code_or_name in UNITS else None
    return _BY_NAME.get(code_or_name)


def unit_symbol(code_or_name: int | str) -> str:
    """The symbol of a unit code or name (``62`` or ``"degrees-celsius"`` -> ``"°C"``).

    Unknown and vendor-proprietary units give ``""``, as ``no-units`` does.
    """
    code = _lookup(code_or_name)
    return UNITS[code][1] if code is not None else ""


def unit_name(code: int) -> str:
    """The BACnet name of a unit code; ``"units-<code>"`` for codes not in the table."""
    entry = UNITS.get(code)
    return entry[0] if entry else f"units-{code}"


def unit_code(text: str | int) -> int | None:
    """The code of a unit given as a symbol, BACnet name (either spelling) or code; None if unknown.

    Symbols are case-sensitive (``mW`` is not ``MW``); names are not.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text if text in UNITS else None
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    for table in (_BY_SYMBOL, _BY_NAME, _ALIASES):
        if stripped in table:
            return table[stripped]
    lowered = stripped.lower()
    for name, code in _BY_NAME.items():
        if name.lower() == lowered:
            return code
    return None
