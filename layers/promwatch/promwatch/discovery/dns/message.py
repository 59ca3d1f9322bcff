"""DNS messages (RFC 1035, 2782, 3596, 6891): a query builder and a response reader (pure).

The reader takes what a nameserver -- or anyone able to send the client a datagram -- sends:
every count, length and offset is checked against the message, a name's compression pointers
may only point backwards (so they cannot loop) and a name stays within 255 octets. A message it
cannot read is a :class:`DnsMessageError` (a :class:`DiscoveryError`), never an IndexError.
Names are given and returned in presentation format with a trailing dot, label bytes outside
printable ASCII and the characters special in zone files escaped as miekg/dns (which Prometheus
uses) escapes them: ``\\.``, ``\\032``.
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from promwatch.discovery.model import DiscoveryError

TYPE_A = 1
TYPE_NS = 2
TYPE_CNAME = 5
TYPE_MX = 15
TYPE_AAAA = 28
TYPE_SRV = 33
TYPE_OPT = 41
CLASS_IN = 1
RCODE_NOERROR = 0
RCODE_NXDOMAIN = 3
HEADER_OCTETS = 12
MAX_NAME_OCTETS = 255
MAX_LABEL_OCTETS = 63
EDNS_UDP_PAYLOAD = 4096
"""UDP payload size advertised with EDNS0, as Prometheus does (miekg/dns' DefaultMsgSize)."""

_FLAG_RESPONSE = 0x8000
_FLAG_TRUNCATED = 0x0200
_FLAG_RECURSION_DESIRED = 0x0100
_POINTER = 0xC0
_HEADER = struct.Struct("!HHHHHH")
_RECORD_HEADER = struct.Struct("!HHIH")
_ESCAPED_BY_BACKSLASH = frozenset(b".'@;()\"\\ ")


class DnsMessageError(DiscoveryError):
    """A DNS message that cannot be built or read."""


@dataclass(frozen=True, slots=True)
class SrvData:
    """An SRV record's data (RFC 2782)."""

    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class MxData:
    """An MX record's data."""

    preference: int
    exchange: str


RecordData = str | SrvData | MxData | bytes
"""An address (A, AAAA), a name (CNAME, NS), SRV or MX data, or the raw bytes of another type."""


@dataclass(frozen=True, slots=True)
class Record:
    """A resource record of a message's answer section."""

    name: str
    rtype: int
    rclass: int
    ttl: int
    data: RecordData


@dataclass(frozen=True, slots=True)
class Question:
    """A question: the name, type and class asked about."""

    name: str
    qtype: int
    qclass: int


@dataclass(frozen=True, slots=True)
class Message:
    """What a response says (the authority and additional sections are not read)."""

    message_id: int
    flags: int
    questions: tuple[Question, ...]
    answers: tuple[Record, ...]

    @property
    def rcode(self) -> int:
        """The response code (0: no error, 3: the name does not exist)."""
        return self.flags & 0x000F

    @property
    def truncated(self) -> bool:
        """TC: the answer did not fit (ask again over TCP)."""
        return bool(self.flags & _FLAG_TRUNCATED)

    @property
    def is_response(self) -> bool:
        """QR: a response, not a query."""
        return bool(self.flags & _FLAG_RESPONSE)


def encode_name(name: str) -> bytes:
    """A name in presentation format (``_metrics._tcp.example.com``, trailing dot or not) in wire format.

    Raises
    ------
    DnsMessageError
        When a label is empty or longer than 63 octets, the name longer than 255 octets, or it
        holds a character other than printable ASCII (escapes are not read).
    """
    if name in ("", "."):
        return b"\x00"
    text = name[:-1] if name.endswith(".") else name
    out = bytearray()
    for label in text.split("."):
        if not label or len(label) > MAX_LABEL_OCTETS:
            raise DnsMessageError(f"DNS name {name!r} has an empty label or one over {MAX_LABEL_OCTETS} octets")
        if not label.isascii() or any(c <= " " or c in "\x7f\\" for c in label):
            raise DnsMessageError(f"DNS name {name!r} holds a character other than printable ASCII (or a backslash)")
        out.append(len(label))
        out += label.encode("ascii")
    out.append(0)
    if len(out) > MAX_NAME_OCTETS:
        raise DnsMessageError(f"DNS name {name!r} is longer than {MAX_NAME_OCTETS} octets")
    return bytes(out)


def build_query(message_id: int, name: str, qtype: int, *, edns_payload: int | None = EDNS_UDP_PAYLOAD) -> bytes:
    """A recursive query for ``name``'s ``qtype`` records, with an EDNS0 OPT record unless
    ``edns_payload`` is None.

    Raises
    ------
    DnsMessageError
        When ``name`` cannot be written (see :func:`encode_name`).
    """
    additional = 0 if edns_payload is None else 1
    query = _HEADER.pack(message_id & 0xFFFF, _FLAG_RECURSION_DESIRED, 1, 0, 0, additional)
    query += encode_name(name) + struct.pack("!HH", qtype, CLASS_IN)
    if edns_payload is not None:
        query += b"\x00" + _RECORD_HEADER.pack(TYPE_OPT, edns_payload, 0, 0)
    return query


def parse_message(data: bytes) -> Message:
    """Read a response's header, questions and answers.

    Raises
    ------
    DnsMessageError
        When the message is truncated, a count or length runs past its end, a name is malformed
        (a loop, a forward pointer, an unknown label type, over 255 octets) or a record's data
        does not fit its type.
    """
    if len(data) < HEADER_OCTETS:
        raise DnsMessageError(f"DNS message of {len(data)} octets is shorter than its {HEADER_OCTETS}-octet header")
    message_id, flags, qdcount, ancount, _nscount, _arcount = _HEADER.unpack_from(data)
    pos = HEADER_OCTETS
    questions = []
    for _ in range(qdcount):
        name, pos = read_name(data, pos)
        if pos + 4 > len(data):
            raise DnsMessageError("DNS message ends inside a question")
        qtype, qclass = struct.unpack_from("!HH", data, pos)
        pos += 4
        questions.append(Question(name, qtype, qclass))
    answers = []
    for _ in range(ancount):
        record, pos = _read_record(data, pos)
        answers.append(record)
    return Message(message_id, flags, tuple(questions), tuple(answers))


def read_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` in presentation format, and the offset just after it.

    Raises
    ------
    DnsMessageError
        See :func:`parse_message`.
    """
    labels: list[str] = []
    octets = 1  # the root label's length octet
    pos = offset
    floor = offset  # a pointer must land before where the current run of labels started
    after: int | None = None
    while True:
        if pos >= len(data):
            raise DnsMessageError(f"DNS name at offset {offset} runs past the end of the message")
        length = data[pos]
        if length & _POINTER == _POINTER:
            if pos + 1 >= len(data):
                raise DnsMessageError(f"DNS name at offset {offset} ends inside a compression pointer")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if after is None:
                after = pos + 2
            if target >= floor:
                raise DnsMessageError(f"DNS name at offset {offset} has a compression pointer that does not point "
                                      "backwards (a loop)")
            pos = floor = target
            continue
        if length & _POINTER:
            raise DnsMessageError(f"DNS name at offset {offset} has an unknown label type 0x{length & _POINTER:02x}")
        if length == 0:
            return ("".join(label + "." for label in labels) or "."), (after if after is not None else pos + 1)
        octets += length + 1
        if octets > MAX_NAME_OCTETS:
            raise DnsMessageError(f"DNS name at offset {offset} is longer than {MAX_NAME_OCTETS} octets")
        if pos + 1 + length > len(data):
            raise DnsMessageError(f"DNS name at offset {offset} runs past the end of the message")
        labels.append(_label_text(data[pos + 1:pos + 1 + length]))
        pos += 1 + length


def _label_text(raw: bytes) -> str:
    out = []
    for byte in raw:
        if byte in _ESCAPED_BY_BACKSLASH:
            out.append("\\" + chr(byte))
        elif 0x20 < byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def _read_record(data: bytes, pos: int) -> tuple[Record, int]:
    name, pos = read_name(data, pos)
    if pos + _RECORD_HEADER.size > len(data):
        raise DnsMessageError(f"DNS record {name!r} ends inside its header")
    rtype, rclass, ttl, rdlength = _RECORD_HEADER.unpack_from(data, pos)
    start = pos + _RECORD_HEADER.size
    end = start + rdlength
    if end > len(data):
        raise DnsMessageError(f"DNS record {name!r}: its data of {rdlength} octets runs past the end of the message")
    return Record(name, rtype, rclass, ttl, _read_data(data, rtype, start, end, name)), end


def _read_data(data: bytes, rtype: int, start: int, end: int, name: str) -> RecordData:
    size = end - start
    if rtype == TYPE_A:
        _expect(size == 4, name, "A", size)
        return str(ipaddress.IPv4Address(data[start:end]))
    if rtype == TYPE_AAAA:
        _expect(size == 16, name, "AAAA", size)
        address = ipaddress.IPv6Address(data[start:end])
        # As Go's net.IP.String, which Prometheus prints: an IPv4-mapped address as IPv4.
        return str(address.ipv4_mapped or address)
    if rtype in (TYPE_CNAME, TYPE_NS):
        target, after = read_name(data, start)
        _expect(after == end, name, "CNAME/NS", size)
        return target
    if rtype == TYPE_MX:
        _expect(size >= 3, name, "MX", size)
        exchange, after = read_name(data, start + 2)
        _expect(after == end, name, "MX", size)
        return MxData(struct.unpack_from("!H", data, start)[0], exchange)
    if rtype == TYPE_SRV:
        _expect(size >= 7, name, "SRV", size)
        priority, weight, port = struct.unpack_from("!HHH", data, start)
        target, after = read_name(data, start + 6)
        _expect(after == end, name, "SRV", size)
        return SrvData(priority, weight, port, target)
    return bytes(data[start:end])


def _expect(fits: bool, name: str, kind: str, size: int) -> None:
    if not fits:
        raise DnsMessageError(f"DNS record {name!r}: {size} octets of data are not {kind} record data")
