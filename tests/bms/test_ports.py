"""bms.ports: an address another socket holds is refused, naming the holder; a sealed socket is its address's only one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bms.errors import BindError, PortInUse
from bms.ports import Endpoint, describe_process, ensure_all_free, ensure_free, holder_of, seal
from tests.bms.bacnet.loopback import host

HERE = f"this process (pid {os.getpid()})"


def udp(address: str, *, reuse_port: bool = False, port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


@pytest.fixture
def held() -> Iterator[socket.socket]:
    """A UDP socket bound with SO_REUSEPORT, as bacpypes3 binds them."""
    with udp(host(91), reuse_port=True) as sock:
        yield sock


def test_a_udp_port_held_with_reuse_is_refused_naming_the_holder(held: socket.socket) -> None:
    endpoint = Endpoint(host(91), held.getsockname()[1])
    with pytest.raises(PortInUse) as refused:
        ensure_free(endpoint)
    assert str(refused.value) == f"{host(91)}:{endpoint.port}/udp is in use by {HERE}"
    assert refused.value.endpoint == str(endpoint) and refused.value.holder == HERE


def test_the_same_port_on_the_wildcard_address_holds_it_too() -> None:
    with udp("0.0.0.0") as wildcard:
        port = wildcard.getsockname()[1]
        with pytest.raises(PortInUse, match=f"{host(92)}:{port}/udp is in use by this process"):
            ensure_free(Endpoint(host(92), port))


def test_a_free_address_and_port_0_pass(held: socket.socket) -> None:
    port = held.getsockname()[1]
    ensure_free(Endpoint(host(93), port))  # another address, same port
    ensure_free(Endpoint(host(91), port, "tcp"))  # another transport
    ensure_free(Endpoint(host(91), 0))
    assert holder_of(Endpoint(host(93), port)) is None


def test_a_tcp_listener_holds_its_port_and_the_first_held_of_many_is_named() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortInUse, match=rf"^127\.0\.0\.1:{port}/tcp is in use by this process"):
            ensure_all_free([Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", port, "tcp")])


def test_an_address_not_on_this_host_is_a_bind_error_not_in_use() -> None:
    with pytest.raises(BindError, match=r"^cannot bind 192\.0\.2\.1:47808/udp: cannot assign requested address$") as err:
        ensure_free(Endpoint("192.0.2.1", 47808))
    assert not isinstance(err.value, PortInUse)


def test_a_sealed_socket_admits_no_other_even_one_asking_to_share(held: socket.socket) -> None:
    seal(held)
    with pytest.raises(OSError), udp(host(91), reuse_port=True, port=held.getsockname()[1]):
        pass


def test_sealing_a_socket_that_shares_its_address_refuses_it(held: socket.socket) -> None:
    port = held.getsockname()[1]
    with (udp(host(91), reuse_port=True, port=port) as joined,
          pytest.raises(PortInUse, match=f"{host(91)}:{port}/udp is in use by this process")):
        seal(joined)


def test_a_broadcast_socket_of_the_same_application_does_not_count(held: socket.socket) -> None:
    port = held.getsockname()[1]
    with udp("0.0.0.0", reuse_port=True, port=port) as broadcast:
        seal(held, own=[broadcast])


def test_the_holder_is_another_process_named_by_its_pid() -> None:
    code = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind((sys.argv[1],0)); "
            "print(s.getsockname()[1], flush=True); sys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code, host(94)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        name = Path(sys.executable).name
        with pytest.raises(PortInUse, match=rf"/udp is in use by {name} pid {child.pid}$"):
            ensure_free(Endpoint(host(94), port))
    finally:
        child.communicate("")


def test_a_bms_daemon_is_named_with_its_data_directory(tmp_path: Path) -> None:
    lock = tmp_path / "bms.lock"
    lock.write_text("")
    code = "import sys; f=open(sys.argv[1]); print('ready', flush=True); sys.stdin.read()"
    child = subprocess.Popen([sys.executable, "-c", code, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert describe_process(child.pid) == f"bms daemon pid {child.pid} (data {tmp_path.resolve()})"
    finally:
        child.communicate("")


def test_endpoints_read_as_address_port_transport() -> None:
    assert str(Endpoint("127.0.0.2", 47808)) == "127.0.0.2:47808/udp"
    assert str(Endpoint("::1", 8787, "tcp")) == "[::1]:8787/tcp"
