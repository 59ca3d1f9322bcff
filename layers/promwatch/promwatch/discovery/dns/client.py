"""Asking nameservers: UDP with EDNS0, TCP when the answer was truncated, within a deadline.

The lookup follows Prometheus' DNS discovery (``lookupWithSearchPath``): each name of the search
list is asked of each nameserver in turn; an answer with no error ends the lookup (even with no
records: the name exists without records of that type), "no such name" moves on to the next
name, anything else (a timeout, SERVFAIL, REFUSED, a message that cannot be read) to the next
nameserver. When every name was answered "no such name" the lookup found nothing; when some
name got no usable answer from any nameserver, it failed (the caller keeps what it had).

A UDP socket is connected to its nameserver, so the kernel drops datagrams from anyone else;
an answer whose ID or question is not the query's is ignored (UDP) or refused (TCP).
"""
from __future__ import annotations

import secrets
import socket
import struct
import time

from promwatch.discovery.dns.message import (
    EDNS_UDP_PAYLOAD,
    RCODE_NOERROR,
    RCODE_NXDOMAIN,
    DnsMessageError,
    Message,
    build_query,
    parse_message,
)
from promwatch.discovery.dns.resolv import Nameserver, ResolvConf, name_list
from promwatch.discovery.model import DiscoveryError
from promwatch.httpclient.connection import Clock

QUERY_TIMEOUT_SECONDS = 2.0
"""Longest wait for one nameserver's answer (miekg/dns' default read timeout, which Prometheus
uses); the caller's deadline may cut it shorter."""
_UDP_RECEIVE_OCTETS = 65535
RCODE_NAMES = {1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED"}


def lookup(name: str, qtype: int, conf: ResolvConf, deadline: float, *, clock: Clock = time.monotonic) -> Message | None:
    """The answer for ``name`` (through the search list), or None when no name of it exists.

    Raises
    ------
    DiscoveryError
        When some name of the search list got no usable answer from any nameserver (and no
        later one was answered), or there is no nameserver to ask.
    """
    if not conf.nameservers:
        raise DiscoveryError(f"dns_sd: no nameserver to ask for {name!r} (none in resolv.conf or the config)")
    all_answered = True
    problems: list[str] = []
    for candidate in name_list(name, conf):
        try:
            answer = ask_any(candidate, qtype, conf.nameservers, deadline, clock=clock)
        except DiscoveryError as exc:
            all_answered = False
            problems.append(str(exc))
            continue
        if answer.rcode == RCODE_NOERROR:
            return answer
    if all_answered:
        return None
    raise DiscoveryError(f"dns_sd: could not resolve {name!r}: {'; '.join(problems)}")


def ask_any(name: str, qtype: int, nameservers: tuple[Nameserver, ...], deadline: float,
            *, clock: Clock = time.monotonic) -> Message:
    """The first answer with no error or "no such name", asking each nameserver in turn.

    Raises
    ------
    DiscoveryError
        Naming each nameserver and what went wrong with it.
    """
    problems = []
    for server in nameservers:
        try:
            answer = ask(server, name, qtype, deadline, clock=clock)
        except DiscoveryError as exc:
            problems.append(f"{server}: {exc}")
            continue
        if answer.rcode in (RCODE_NOERROR, RCODE_NXDOMAIN):
            return answer
        problems.append(f"{server}: {RCODE_NAMES.get(answer.rcode, 'response code')} ({answer.rcode})")
    raise DiscoveryError(f"{name}: no nameserver gave a usable answer ({', '.join(problems)})")


def ask(server: Nameserver, name: str, qtype: int, deadline: float, *, clock: Clock = time.monotonic) -> Message:
    """One nameserver's answer: over UDP, again over TCP when it was truncated.

    Raises
    ------
    DiscoveryError
        On a timeout, a network error, or an answer that cannot be read.
    """
    try:
        family, address = _socket_address(server)
        answer = _ask_udp(family, address, name, qtype, deadline, clock)
        if answer.truncated:
            answer = _ask_tcp(family, address, name, qtype, deadline, clock)
            if answer.truncated:
                raise DiscoveryError("truncated answer over TCP (over 64 KiB?)")
    except TimeoutError:
        raise DiscoveryError("timed out") from None
    except OSError as exc:
        raise DiscoveryError(f"{type(exc).__name__}: {exc.strerror or exc}") from None
    return answer


def _socket_address(server: Nameserver) -> tuple[int, tuple[object, ...]]:
    try:
        info = socket.getaddrinfo(server.host, server.port, type=socket.SOCK_DGRAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        raise DiscoveryError(f"{server.host!r} is not an IP address") from None
    family, _, _, _, address = info[0]
    return family, address


def _remaining(deadline: float, clock: Clock) -> float:
    left = min(deadline - clock(), QUERY_TIMEOUT_SECONDS)
    if left <= 0:
        raise DiscoveryError("timed out")  # as ask() reports a socket's timeout
    return left


def _matches(answer: Message, message_id: int, name: str, qtype: int) -> bool:
    if answer.message_id != message_id or not answer.is_response:
        return False
    return len(answer.questions) == 1 and answer.questions[0].qtype == qtype and (
        answer.questions[0].name.lower() == name.lower())


def _ask_udp(family: int, address: tuple[object, ...], name: str, qtype: int, deadline: float,
             clock: Clock) -> Message:
    message_id = secrets.randbelow(0x10000)
    query = build_query(message_id, name, qtype, edns_payload=EDNS_UDP_PAYLOAD)
    wait_until = min(deadline, clock() + QUERY_TIMEOUT_SECONDS)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.settimeout(_remaining(wait_until, clock))
        sock.send(query)
        while True:
            sock.settimeout(_remaining(wait_until, clock))
            data = sock.recv(_UDP_RECEIVE_OCTETS)
            try:
                answer = parse_message(data)
            except DnsMessageError:
                continue  # not an answer to us (or garbage): keep waiting for one
            if _matches(answer, message_id, name, qtype):
                return answer


def _ask_tcp(family: int, address: tuple[object, ...], name: str, qtype: int, deadline: float,
             clock: Clock) -> Message:
    message_id = secrets.randbelow(0x10000)
    query = build_query(message_id, name, qtype, edns_payload=None)  # as Prometheus: no EDNS over TCP
    wait_until = min(deadline, clock() + QUERY_TIMEOUT_SECONDS)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(_remaining(wait_until, clock))
        sock.connect(address)
        sock.settimeout(_remaining(wait_until, clock))
        sock.sendall(struct.pack("!H", len(query)) + query)
        (length,) = struct.unpack("!H", _receive(sock, 2, wait_until, clock))
        answer = parse_message(_receive(sock, length, wait_until, clock))
    if not _matches(answer, message_id, name, qtype):
        raise DiscoveryError("the TCP answer is not to the question asked (its ID or question differs)")
    return answer


def _receive(sock: socket.socket, size: int, wait_until: float, clock: Clock) -> bytes:
    data = bytearray()
    while len(data) < size:
        sock.settimeout(_remaining(wait_until, clock))
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise DiscoveryError(f"the nameserver closed the TCP connection after {len(data)} of {size} octets")
        data += chunk
    return bytes(data)
