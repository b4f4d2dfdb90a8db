"""The one exception tree and the HTTP status of each of its classes."""

from __future__ import annotations

import inspect

import pytest

import bms.errors
from bms.api import ServiceUnavailable as ApiServiceUnavailable
from bms.api._errors import status_of
from bms.bacnet._records import BacnetRejected
from bms.client import CommandRefused
from bms.client._errors import error_for
from bms.errors import (
    BindError,
    BmsError,
    CodecError,
    ConfigError,
    Conflict,
    DaemonError,
    DeviceRejected,
    DeviceTimeout,
    LockedOut,
    LogicError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PortInUse,
    ProtocolError,
    SchemaTooNew,
    ServiceUnavailable,
    StoreError,
    Unavailable,
    WriteRefused,
)
from bms.modbus import DecodeError, ExceptionReply, MalformedReply, ReadbackMismatch

STATUS: dict[type[BmsError], int] = {
    BmsError: 400,
    ConfigError: 400,
    LogicError: 400,
    DaemonError: 400,
    BindError: 400,
    PortInUse: 400,
    StoreError: 503,
    SchemaTooNew: 503,
    ProtocolError: 502,
    DeviceTimeout: 504,
    DeviceRejected: 502,
    CodecError: 502,
    WriteRefused: 409,
    Conflict: 409,
    NotFound: 404,
    Unavailable: 503,
    ServiceUnavailable: 503,
    NotAuthenticated: 401,
    LockedOut: 429,
    PermissionDenied: 403,
}


def _instance(kind: type[BmsError]) -> BmsError:
    if issubclass(kind, WriteRefused):
        return kind("room1/sp", "above the maximum", guard="max")
    if issubclass(kind, ServiceUnavailable):
        return kind("points")
    return kind("something went wrong")


@pytest.mark.parametrize(("kind", "status"), STATUS.items(), ids=[k.__name__ for k in STATUS])
def test_status_of_each_class_of_the_tree(kind: type[BmsError], status: int) -> None:
    assert status_of(_instance(kind)) == status


def test_the_table_names_every_class_of_the_tree() -> None:
    tree = {obj for obj in vars(bms.errors).values() if inspect.isclass(obj) and issubclass(obj, BmsError)}
    assert tree == set(STATUS)


@pytest.mark.parametrize(("err", "status"), [
    (MalformedReply("malformed reply to holding 1..2: asked 2 registers, got 1"), 502),
    (DecodeError("holding 1 needs 2 register(s), got 1"), 502),
    (ExceptionReply("exception 2 (illegal data address)", 2, 3), 502),
    (ReadbackMismatch("m/p", 1, 2), 502),
    (BacnetRejected("unknown-object", "error", "object", "unknown-object"), 502),
    (CommandRefused("write to room1/sp refused: above the maximum"), 409),
])
def test_protocol_and_client_subclasses_keep_their_branch(err: BmsError, status: int) -> None:
    assert status_of(err) == status


def test_codec_errors_are_protocol_errors_and_the_modbus_decode_error_is_still_a_value_error() -> None:
    assert issubclass(CodecError, ProtocolError)
    assert issubclass(MalformedReply, CodecError)
    assert issubclass(DecodeError, CodecError) and issubclass(DecodeError, ValueError)


def test_service_unavailable_is_an_unavailable_still_named_by_the_api() -> None:
    assert ApiServiceUnavailable is ServiceUnavailable
    assert issubclass(ServiceUnavailable, Unavailable)
    assert str(ServiceUnavailable("points")) == "the points service is not running"


@pytest.mark.parametrize(("status", "point_id", "kind"), [
    (404, "", NotFound),
    (409, "room1/sp", CommandRefused),
    (409, "", Conflict),
    (502, "", DeviceRejected),
    (503, "", Unavailable),
    (504, "", DeviceTimeout),
    (500, "", DaemonError),
])
def test_the_client_turns_a_status_back_into_its_class(status: int, point_id: str, kind: type[BmsError]) -> None:
    err = error_for(status, "the daemon's line", point_id)
    assert type(err) is kind
    assert str(err) == "the daemon's line"
