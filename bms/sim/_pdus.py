"""Request PDUs the simulated server substitutes for pymodbus's own.

* :class:`Refusal` answers any request with one exception code (a unit set
  to fail, or a unit the server does not serve).
* :func:`identity_request` makes a Read Device Identification (FC43/14)
  request class that answers with the identity of the addressed unit;
  pymodbus's own answers from one process-wide identity for every unit.
"""

from __future__ import annotations

from collections.abc import Mapping

from pymodbus.constants import DeviceInformation, ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.mei_message import ReadDeviceInformationRequest, ReadDeviceInformationResponse

_READ_DEVICE_ID = 0x0E
_BASIC = (0x00, 0x01, 0x02)
_REGULAR = tuple(range(0x07))


class Refusal(ModbusPDU):
    """Stands in for a received request and answers it with ``code``."""

    def __init__(self, request: ModbusPDU, code: ExcCodes) -> None:
        super().__init__(dev_id=request.dev_id, transaction_id=request.transaction_id)
        self.function_code = request.function_code
        self.code = code

    async def datastore_update(self, context: ModbusServerContext, device_id: int) -> ModbusPDU:
        _ = context, device_id
        return ExceptionResponse(self.function_code, self.code)


def identity_request(identities: Mapping[int, Mapping[int, str]]) -> type[ModbusPDU]:
    """An FC43 request class answering from ``identities`` (unit -> object id -> text)."""

    class UnitIdentityRequest(ReadDeviceInformationRequest):
        def decode(self, data: bytes) -> None:
            super().decode(data)
            self.mei_type = self.sub_function_code
            self.sub_function_code = -1  # keep this class: no sub-function lookup

        async def datastore_update(self, context: ModbusServerContext, device_id: int) -> ModbusPDU:
            _ = context
            if self.mei_type != _READ_DEVICE_ID:
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_FUNCTION)
            identity = identities.get(device_id)
            if identity is None:
                return ExceptionResponse(self.function_code, ExcCodes.DEVICE_FAILURE)
            if not identity:  # a unit that does not implement FC43
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_FUNCTION)
            if self.read_code == DeviceInformation.SPECIFIC:
                if self.object_id not in identity:
                    return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_ADDRESS)
                wanted: tuple[int, ...] = (self.object_id,)
            elif self.read_code == DeviceInformation.BASIC:
                wanted = _BASIC
            elif self.read_code == DeviceInformation.REGULAR:
                wanted = _REGULAR
            elif self.read_code == DeviceInformation.EXTENDED:
                wanted = tuple(sorted(identity))
            else:
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_VALUE)
            information = {i: identity.get(i, "") for i in wanted if i in _BASIC or identity.get(i)}
            return ReadDeviceInformationResponse(
                read_code=self.read_code, information=information, dev_id=device_id, transaction_id=self.transaction_id
            )

    return UnitIdentityRequest
