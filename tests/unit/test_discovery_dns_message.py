"""The DNS message builder and reader: queries as RFC 1035 writes them, answers read with every
length checked, and anything malformed a DnsMessageError (never an IndexError or a loop)."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.discovery import DiscoveryError
from promwatch.discovery.dns.message import (
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    TYPE_MX,
    TYPE_NS,
    TYPE_SRV,
    DnsMessageError,
    Message,
    MxData,
    SrvData,
    build_query,
    encode_name,
    parse_message,
    read_name,
)

QNAME = b"\x08_metrics\x04_tcp\x07example\x04test\x00"
QNAME_AT = 12  # the question's name follows the header: answers point back to it


def response(*records: bytes, flags: int = 0x8180, message_id: int = 0x1234, qtype: int = TYPE_SRV,
             ancount: int | None = None) -> bytes:
    header = struct.pack("!HHHHHH", message_id, flags, 1, len(records) if ancount is None else ancount, 0, 0)
    return header + QNAME + struct.pack("!HH", qtype, 1) + b"".join(records)


def record(rtype: int, rdata: bytes, name: bytes = b"\xc0\x0c", ttl: int = 30) -> bytes:
    return name + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def test_a_query_is_a_recursive_question_with_edns0() -> None:
    # Given a query for SRV records of a service name,
    query = build_query(0xBEEF, "_metrics._tcp.example.test", TYPE_SRV)
    # then the header asks one question, recursion desired, with one OPT record (4096 octets over UDP),
    assert struct.unpack_from("!HHHHHH", query) == (0xBEEF, 0x0100, 1, 0, 0, 1)
    assert query[12:12 + len(QNAME)] == QNAME
    assert query[12 + len(QNAME):] == struct.pack("!HH", TYPE_SRV, 1) + b"\x00" + struct.pack("!HHIH", 41, 4096, 0, 0)
    # and without EDNS (over TCP) there is no additional record; a trailing dot changes nothing.
    plain = build_query(1, "_metrics._tcp.example.test.", TYPE_A, edns_payload=None)
    assert struct.unpack_from("!HHHHHH", plain)[5] == 0 and plain.endswith(QNAME + struct.pack("!HH", TYPE_A, 1))


def test_answers_of_every_type_are_read_with_compressed_names() -> None:
    # Given an answer holding SRV, A, AAAA (one IPv4-mapped), CNAME, MX, NS and an unknown type,
    # names compressed against the question,
    srv = struct.pack("!HHH", 10, 5, 9100) + b"\x05host1\xc0\x1a"  # host1.example.test.
    data = response(
        record(TYPE_SRV, srv),
        record(TYPE_A, bytes([127, 0, 0, 5])),
        record(TYPE_AAAA, bytes(15) + b"\x01"),
        record(TYPE_AAAA, bytes(10) + b"\xff\xff" + bytes([10, 0, 0, 1])),
        record(TYPE_CNAME, b"\x05alias\xc0\x1a"),
        record(TYPE_MX, b"\x00\x0a" + b"\x04mail\xc0\x1a"),
        record(TYPE_NS, b"\x03ns1\xc0\x1a"),
        record(16, b"\x03txt"),
    )
    # when read,
    message = parse_message(data)
    # then every record has its data, names in presentation format with the trailing dot.
    assert message.message_id == 0x1234 and message.is_response and message.rcode == 0 and not message.truncated
    assert message.questions[0].name == "_metrics._tcp.example.test." and message.questions[0].qtype == TYPE_SRV
    assert [r.data for r in message.answers] == [
        SrvData(10, 5, 9100, "host1.example.test."), "127.0.0.5", "::1", "10.0.0.1",
        "alias.example.test.", MxData(10, "mail.example.test."), "ns1.example.test.", b"\x03txt",
    ]
    assert {r.name for r in message.answers} == {"_metrics._tcp.example.test."}


def test_flags_say_truncated_and_no_such_name() -> None:
    # Given a truncated answer and an NXDOMAIN, then the reader says so.
    assert parse_message(response(flags=0x8380)).truncated
    assert parse_message(response(flags=0x8183)).rcode == 3


def test_label_bytes_are_escaped_as_miekg_dns_does() -> None:
    # Given a name whose labels hold a dot, a space, a backslash and bytes outside printable ASCII,
    data = b"\x00" * 12 + b"\x04a.b \x03\\\x01\xff\x00"
    # then they are escaped, so the text cannot be mistaken for another name.
    assert read_name(data, 12) == ("a\\.b\\ .\\\\\\001\\255.", len(data))
    assert read_name(b"\x00", 0) == (".", 1)


@pytest.mark.parametrize(("data", "problem"), [
    (b"\x12\x34\x81", "shorter than its 12-octet header"),
    (response(ancount=1), "runs past the end"),
    (response(record(TYPE_A, b"\x01\x02\x03\x04"))[:-2], "runs past the end"),
    (response(record(TYPE_A, b"\x01\x02\x03\x04\x05")), "not A record data"),
    (response(record(TYPE_AAAA, b"\x00" * 4)), "not AAAA record data"),
    (response(record(TYPE_SRV, b"\x00\x01")), "not SRV record data"),
    (response(record(TYPE_MX, b"\x00\x01\x00\x00")), "not MX record data"),  # a name, then a stray octet
    (response(record(TYPE_NS, b"\x03ns1")), "runs past the end"),  # the name overruns the message
    (response(record(TYPE_NS, b"\x00\x00")), "not CNAME/NS record data"),
    (response(record(TYPE_A, b"\x01\x02\x03\x04", name=b"\xc0\x30")), "does not point backwards"),
    (response(record(TYPE_A, b"\x01\x02\x03\x04", name=b"\x01a\xc0\x2c")), "does not point backwards"),
    (response(b"\xc0", ancount=1), "ends inside a compression pointer"),
    (response(record(TYPE_A, b"\x01\x02\x03\x04", name=b"\x41abc")), "unknown label type"),
    (struct.pack("!HHHHHH", 0, 0x8180, 1, 0, 0, 0) + (b"\x3f" + b"a" * 63) * 4 + b"\x00\x00\x01\x00\x01",
     "longer than 255 octets"),
])
def test_a_malformed_message_is_a_discovery_error(data: bytes, problem: str) -> None:
    # Given a message that is cut short, lies about a length, or loops, then reading it is a
    # DnsMessageError (a DiscoveryError: the job keeps its last list) naming the problem.
    with pytest.raises(DnsMessageError, match=problem) as caught:
        parse_message(data)
    assert isinstance(caught.value, DiscoveryError)


def test_a_pointer_loop_through_two_names_stops() -> None:
    # Given two names pointing at each other (offset 12 -> 14 -> 12), then the reader refuses the
    # forward pointer instead of following it forever.
    data = b"\x00" * 12 + b"\xc0\x0e\xc0\x0c"
    with pytest.raises(DnsMessageError, match="does not point backwards"):
        read_name(data, 12)
    with pytest.raises(DnsMessageError, match="does not point backwards"):
        read_name(data, 14)  # 14 -> 12 is backwards, but 12 -> 14 then is not


@pytest.mark.parametrize("name", ["", "a..b", "a" * 64 + ".test", ".".join(["a" * 60] * 5), "ex ample.test",
                                  "exämple.test", "a\\.b.test"])
def test_a_name_that_cannot_be_written_is_refused(name: str) -> None:
    # Given a name with an empty or long label, over 255 octets, or characters DNS names here
    # may not hold, then it is refused naming it (the root, "", is written as itself).
    if name == "":
        assert encode_name(name) == b"\x00"
        return
    with pytest.raises(DnsMessageError, match="DNS name"):
        encode_name(name)


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=63)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LABEL, min_size=1, max_size=4))
def test_written_names_read_back_as_written(labels: list[str]) -> None:
    # Given any name of ordinary labels, then what is written reads back as the same name.
    name = ".".join(labels)
    wire = encode_name(name)
    assert read_name(wire, 0) == (name + ".", len(wire))


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_are_a_message_or_a_discovery_error(data: bytes) -> None:
    # Given any datagram at all, then reading it gives a message or a DnsMessageError, nothing else.
    try:
        message = parse_message(data)
    except DnsMessageError:
        return
    assert_read_as_its_header_says(message, data)


_VALID = response(
    record(TYPE_SRV, struct.pack("!HHH", 1, 1, 9100) + b"\x05host1\xc0\x1a"),
    record(TYPE_A, bytes([127, 0, 0, 5]), name=b"\x05host1\xc0\x1a"),
    record(TYPE_MX, b"\x00\x0a\x04mail\xc0\x1a"),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(_VALID)))
def test_a_damaged_answer_is_a_message_or_a_discovery_error(edits: list[tuple[int, int]], cut: int) -> None:
    # Given a real answer with some octets changed (lengths, pointers, counts) and cut anywhere,
    damaged = bytearray(_VALID)
    for offset, value in edits:
        damaged[offset] = value
    # then reading it gives a message or a DnsMessageError, never another exception.
    try:
        message = parse_message(bytes(damaged[:cut]))
    except DnsMessageError:
        return
    assert_read_as_its_header_says(message, bytes(damaged[:cut]))


def assert_read_as_its_header_says(message: Message, data: bytes) -> None:
    """A message read without error holds what its header says: its id and flags, as many
    questions and answers as the counts say, each name a dotted name."""
    message_id, flags, questions, answers = struct.unpack_from("!HHHH", data)
    assert (message.message_id, message.flags) == (message_id, flags)
    assert (len(message.questions), len(message.answers)) == (questions, answers)
    assert all(item.name.endswith(".") for item in (*message.questions, *message.answers))
