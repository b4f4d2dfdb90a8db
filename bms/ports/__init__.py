"""One owner per address and port on this host: exclusive binds, and who holds a port that is taken.

Two bms processes (two daemons on two data directories, a daemon and
``bms sim bacnet``, offline discovery beside a daemon) must never share an
address:port. The kernel shares one only when every socket on it asks for
it (SO_REUSEPORT, or SO_REUSEADDR for UDP): bacpypes3 asks for it on every
UDP socket it opens (``IPv4DatagramServer.retrying_create_datagram_endpoint``
passes ``reuse_port=True``), so a second application on the same unicast
address joined the first one's and the kernel spread the datagrams between
them: the first lost its devices' answers.

* :func:`ensure_free` binds a probe socket without any reuse option and
  closes it: a port that any socket holds (with or without reuse, or the
  same port on the wildcard address) is :class:`~bms.errors.PortInUse`,
  naming the holder. Everything that binds calls it first (the daemon for
  every :class:`Endpoint` of its components before it starts any, the
  simulators, the BACnet client).
* :func:`seal` turns SO_REUSEPORT off on a bound UDP socket (no later
  socket can join it) and refuses it when another socket already shares
  its address (a race between the probe and the bind).
* :func:`holder_of` names the process holding an endpoint, from
  ``/proc/net`` and the socket inodes in ``/proc/<pid>/fd``: a bms daemon
  with its data directory (the ``bms.lock`` it keeps open), another bms
  command, or any other process of the same user; None when unknown.

Broadcast sockets (BACnet's ``x.x.x.255:47808``) stay shared: every
application of a subnet must hear its broadcasts, and the kernel delivers a
broadcast to every socket bound to it, so sharing steals nothing.
"""

from bms.errors import PortInUse
from bms.ports._claim import Endpoint, ensure_all_free, ensure_free, seal, sharing
from bms.ports._holder import describe_process, holder_of, holders_of

__all__ = [
    "Endpoint",
    "PortInUse",
    "describe_process",
    "ensure_all_free",
    "ensure_free",
    "holder_of",
    "holders_of",
    "seal",
    "sharing",
]
