"""resolv.conf and the search list, read as Prometheus (miekg/dns' ClientConfig) reads them."""
from __future__ import annotations

import pytest
from promwatch.discovery.dns.resolv import (
    Nameserver,
    ResolvConf,
    name_list,
    parse_nameserver,
    parse_resolv_conf,
)


def test_resolv_conf_gives_nameservers_search_and_ndots() -> None:
    # Given a resolv.conf as a VPC writes it, with comments, options and a domain line the
    # later search line overrides,
    conf = parse_resolv_conf(
        "# Generated\n"
        "domain eu-west-1.compute.internal\n"
        "nameserver 10.0.0.2\n"
        "nameserver fd00:ec2::253  # IPv6 resolver\n"
        "search svc.local eu-west-1.compute.internal\n"
        "options timeout:2 attempts:5 ndots:2 rotate\n"
        "nameserver\n"
    )
    # then it holds the nameservers (port 53), the last search list and ndots.
    assert conf == ResolvConf(
        (Nameserver("10.0.0.2"), Nameserver("fd00:ec2::253")), ("svc.local", "eu-west-1.compute.internal"), 2)
    assert str(conf.nameservers[1]) == "[fd00:ec2::253]:53"


@pytest.mark.parametrize(("option", "ndots"), [("ndots:0", 0), ("ndots:99", 15), ("ndots:-3", 0), ("ndots:x", 0)])
def test_ndots_is_clamped_as_miekg_dns_does(option: str, ndots: int) -> None:
    # Given an ndots option out of range or not a number, then it is clamped to 0..15 (0 when unreadable).
    assert parse_resolv_conf(f"options {option}\n").ndots == ndots


@pytest.mark.parametrize(("name", "search", "ndots", "expected"), [
    # More labels than ndots: as written first, then with each search domain.
    ("_metrics._tcp.svc.local", ("corp",), 1,
     ["_metrics._tcp.svc.local.", "_metrics._tcp.svc.local.corp."]),
    # Not more labels than ndots: the search domains first, as written last.
    ("web", ("svc.local", "corp"), 1, ["web.svc.local.", "web.corp.", "web."]),
    ("web.svc", ("corp",), 2, ["web.svc.corp.", "web.svc."]),
    # A trailing dot: only as written.
    ("web.svc.local.", ("corp",), 1, ["web.svc.local."]),
    ("web", (), 1, ["web."]),
])
def test_the_search_list_is_tried_as_prometheus_tries_it(
    name: str, search: tuple[str, ...], ndots: int, expected: list[str]
) -> None:
    # Given a name and a search list, then the names tried, in order, are miekg/dns' NameList.
    assert name_list(name, ResolvConf((), search, ndots)) == expected


@pytest.mark.parametrize(("text", "server"), [
    ("10.0.0.2", Nameserver("10.0.0.2", 53)),
    ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
    ("fd00::2", Nameserver("fd00::2", 53)),
    ("[fd00::2]:5353", Nameserver("fd00::2", 5353)),
    ("[::1]", Nameserver("::1", 53)),
])
def test_a_configured_nameserver_is_an_address_and_a_port(text: str, server: Nameserver) -> None:
    # given a nameserver as an address, with or without a port, when parsed, then it is that address and port (53 by default)
    assert parse_nameserver(text) == server


@pytest.mark.parametrize(("text", "problem"), [
    ("dns.internal", "not a nameserver address"),
    ("10.0.0.2:0", "port '0'"),
    ("10.0.0.2:53x", "port '53x'"),
    ("[fd00::2]5353", "not a nameserver address"),
    ("[fd00::2", "not a nameserver address"),
    ("", "not a nameserver address"),
])
def test_a_nameserver_that_is_not_an_address_is_refused(text: str, problem: str) -> None:
    # given a nameserver that is a name, has a bad port or unbalanced brackets, when parsed, then it is refused
    with pytest.raises(ValueError, match=problem):
        parse_nameserver(text)
