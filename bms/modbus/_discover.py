"""Finding the unit ids that answer at a Modbus TCP address, and what each one says of itself.

Each unit id is asked for each of :data:`PROBE_REGISTERS` (one register
each). A unit is present when any of them gets any reply, an exception
included: exception 2 only means that nothing lives at that address, which
is no reason to call a healthy meter broken. Exception 4 (device failure:
what pymodbus answers for a unit it does not serve), the gateway codes
10/11 and no reply at all mean absent. A present unit is asked for its
identification (FC43/14: vendor, product code, revision); one that does not
support it is "no identification", still present.

``progress(done, total, found)`` is called after each unit id tried: unit
ids tried, of how many, and how many answered so far.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bms.config._schema import ModbusTable
from bms.errors import DeviceTimeout
from bms.modbus._reply import MalformedReply, exception_text
from bms.modbus._session import ExceptionReply, ModbusConnection, ModbusDeviceSession, TcpLink

_ABSENT_CODES = frozenset({4, 10, 11})

PROBE_REGISTERS: tuple[tuple[ModbusTable, int], ...] = (("holding", 0), ("input", 0))
"""The registers a probe reads on each unit id: (table, 0-based address)."""

NO_IDENTIFICATION = "no identification"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """A unit id that answered: which probe registers answered, which refused and why, and its identification."""

    unit_id: int
    answered: tuple[str, ...] = ()  # "holding 0"
    refused: tuple[str, ...] = ()  # "input 0: exception 2 (illegal data address)"
    identified: bool = False  # it answered FC43
    vendor: str = ""
    product_code: str = ""
    revision: str = ""

    @property
    def identification(self) -> str:
        """``bms PM-3100 0.1``, or "no identification" for a unit that does not answer FC43."""
        if not self.identified:
            return NO_IDENTIFICATION
        return " ".join(p for p in (self.vendor, self.product_code, self.revision) if p) or "empty identification"

    @property
    def registers(self) -> str:
        """``holding 0 answered; input 0: exception 2 (illegal data address)``."""
        parts = [f"{', '.join(self.answered)} answered"] if self.answered else ["no probe register answered"]
        return "; ".join([*parts, *self.refused])


async def probe(host: str, port: int, unit_ids: Iterable[int], timeout: float = 1.0,
                progress: Callable[[int, int, int], None] | None = None) -> list[ProbeResult]:
    """The units among ``unit_ids`` that answer at host:port, in the order asked.

    Raises ProtocolError when nothing accepts a connection there.
    """
    wanted = list(unit_ids)
    connection = ModbusConnection(TcpLink(host, port), timeout=timeout)
    found: list[ProbeResult] = []
    try:
        await connection.connect()
        for done, unit_id in enumerate(wanted, 1):
            result = await _probe_unit(ModbusDeviceSession(connection, unit_id, timeout=timeout, retries=0))
            if result is not None:
                found.append(result)
            if progress is not None:
                progress(done, len(wanted), len(found))
    finally:
        connection.close()
    return found


async def _probe_unit(session: ModbusDeviceSession) -> ProbeResult | None:
    """What one unit id answers; None when nothing answers there."""
    answered: list[str] = []
    refused: list[str] = []
    for table, address in PROBE_REGISTERS:
        where = f"{table} {address}"
        try:
            await session.read(table, address, 1)
        except ExceptionReply as err:
            if err.code in _ABSENT_CODES:
                return None
            refused.append(f"{where}: {exception_text(err.code)}")
            continue
        except DeviceTimeout:
            if not answered and not refused:
                return None  # the first read went unanswered: nobody there
            refused.append(f"{where}: no reply")
            continue
        except MalformedReply as err:
            refused.append(f"{where}: malformed reply ({err})")
            continue
        answered.append(where)
    unit = session.unit_id
    try:
        ident = await session.identify()
    except (ExceptionReply, DeviceTimeout, MalformedReply):
        return ProbeResult(unit, tuple(answered), tuple(refused))
    return ProbeResult(unit, tuple(answered), tuple(refused), True, ident.vendor, ident.product_code, ident.revision)
