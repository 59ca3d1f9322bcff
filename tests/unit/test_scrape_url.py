"""The one URL parser of the scraper, and the guard that judges what it returns."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
import urllib3.util
from hypothesis import given, settings
from hypothesis import strategies as st
from promwatch.httpclient import BLOCKED_RANGES, GuardPolicy, InvalidTargetError, TargetRefusedError
from promwatch.httpclient.guard import address_refusal, checked_addresses, embedded_ipv4
from promwatch.httpclient.url import parse_authority, parse_url
from promwatch.scrape import ConfigError, build_targets, parse_config


@pytest.mark.parametrize(("url", "host", "port", "target", "host_header"), [
    ("http://127.0.0.1:9100/metrics", "127.0.0.1", 9100, "/metrics", "127.0.0.1:9100"),
    ("HTTP://App.Internal/metrics", "app.internal", 80, "/metrics", "app.internal"),
    ("https://app.internal:443/m?x=1&y=%20", "app.internal", 443, "/m?x=1&y=%20", "app.internal"),
    ("http://[::1]:9100/metrics#frag", "::1", 9100, "/metrics", "[::1]:9100"),
    ("http://app.internal:8080", "app.internal", 8080, "/", "app.internal:8080"),
    ("http://app.internal:8080?q", "app.internal", 8080, "/?q", "app.internal:8080"),
    ("http://my_svc.ns.svc:9100/m", "my_svc.ns.svc", 9100, "/m", "my_svc.ns.svc:9100"),
    ("http://app.internal/caf\u00e9", "app.internal", 80, "/caf%C3%A9", "app.internal"),
    ("http://127.0.0.1:18081?@169.254.169.254/", "127.0.0.1", 18081, "/?@169.254.169.254/", "127.0.0.1:18081"),
    ("http://127.0.0.1:18081#@169.254.169.254/", "127.0.0.1", 18081, "/", "127.0.0.1:18081"),
])
def test_urls_are_read_to_exactly_one_host_and_port(url: str, host: str, port: int, target: str, host_header: str) -> None:
    # Given an acceptable URL, when parsed, then host, port, request target and Host header are these.
    parsed = parse_url(url)
    assert (parsed.host, parsed.port, parsed.target, parsed.host_header) == (host, port, target, host_header)


@pytest.mark.parametrize(("url", "reason"), [
    ("http://169.254.169.254\\@127.0.0.1:18081/", "userinfo"),
    ("http://a\\b:80/", "backslash"),
    ("http://carol:pw@host:9100/", "userinfo"),
    ("http://@host/", "userinfo"),
    ("http://host :80/", "whitespace"),
    ("http://host\t:80/", "whitespace"),
    ("http://ho\x00st/", "control"),
    ("http://h\u00f6st/", "non-ASCII"),
    ("http://host:/", "port ''"),
    ("http://host:0/", "port '0'"),
    ("http://host:65536/", "port '65536'"),
    ("http://host:+80/", "port '\\+80'"),
    ("http://host:８０/", "non-ASCII"),
    ("http://[::1/", "missing"),
    ("http://[fe80::1%25eth0]/", "zones"),
    ("http://::1:80/", "brackets"),
    ("http://0177.0.0.1/", "canonical IPv4"),
    ("http://0x7f.1/", "canonical IPv4"),
    ("http://2130706433/", "canonical IPv4"),
    ("http://127.1/", "canonical IPv4"),
    ("http://1.2.3.4.5/", "canonical IPv4"),
    ("http://-bad.example/", "not a host name"),
    ("http://" + "a" * 64 + ".example/", "not a host name"),
    ("ftp://host/", "scheme 'ftp'"),
    ("host:9100/metrics", "not a URL"),
    ("http://host/a b", "path"),
    ("http://host/a\r\nX-Injected: 1", "path"),
])
def test_what_cannot_be_read_safely_is_refused(url: str, reason: str) -> None:
    # Given a URL with a parser differential or a forbidden character, then it is refused, naming why.
    with pytest.raises(InvalidTargetError, match=reason):
        parse_url(url)


def test_an_invalid_target_is_a_refusal_and_no_control_character_reaches_the_message() -> None:
    # Given a URL carrying CR/LF, then the error is a refusal whose message shows them escaped.
    with pytest.raises(TargetRefusedError) as refused:
        parse_url("http://host\r\n:80/")
    assert "\r" not in str(refused.value) and "\n" not in str(refused.value)


URL_CHARS = st.sampled_from([*list("abc019.:@[]/\\?#%-_ \t\r\n\x00"), "169.254.169.254", "127.0.0.1", "::1", "::ffff:"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(URL_CHARS, max_size=14).map("".join))
def test_no_other_parser_reads_an_accepted_url_differently(rest: str) -> None:
    # Given any URL this parser accepts, then urllib3 and urllib.parse read the same host and port
    # (a guard fooled by a differential needs a URL two parsers disagree on).
    url = "http://" + rest
    try:
        parsed = parse_url(url)
    except InvalidTargetError:
        return
    theirs = urllib3.util.parse_url(url)
    assert (theirs.host or "").strip("[]").lower() == parsed.host
    assert (theirs.port or 80) == parsed.port
    split = urlsplit(url)
    assert (split.hostname or "") == parsed.host and (split.port or 80) == parsed.port


@pytest.mark.parametrize(("address", "refused"), [
    ("169.254.169.254", True), ("169.254.170.2", True), ("169.254.170.23", True),
    ("fd00:ec2::254", True), ("fd00:ec2::23", True), ("fe80::1", True),
    ("::ffff:169.254.169.254", True), ("::169.254.169.254", True), ("64:ff9b::a9fe:a9fe", True),
    ("2002:a9fe:a9fe::1", True), ("2001:0:4136:e378:8000:63bf:5601:5601", True),
    ("10.0.0.1", False), ("127.0.0.1", False), ("::1", False), ("fd00:ec2::1", False), ("2600:1f18::1", False),
])
def test_blocked_ranges_cover_metadata_and_credential_agents_however_embedded(address: str, refused: bool) -> None:
    # Given an address (IPv4 carried in IPv6 included), then the default policy refuses exactly these.
    ip = ipaddress.ip_address(address)
    assert (address_refusal(ip, GuardPolicy()) is not None) is refused
    assert address_refusal(ip, GuardPolicy(allow_link_local=True)) is None


def test_teredo_carries_its_client_address() -> None:
    # Given a Teredo address whose obfuscated client is 169.254.169.254, then that is what is judged.
    teredo = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:5601:5601")
    assert embedded_ipv4(teredo) == ipaddress.IPv4Address("169.254.169.254")


@pytest.mark.parametrize("address", ["127.0.0.1", "127.3.4.5", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"])
def test_inside_lambda_loopback_is_refused_even_with_allow_link_local(address: str) -> None:
    # Given the Lambda Runtime API on loopback, then loopback (and what reaches it) is refused there,
    policy = GuardPolicy.from_env({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, allow_link_local=True)
    assert "Runtime API" in (address_refusal(ipaddress.ip_address(address), policy) or "")
    # and allowed outside Lambda.
    assert address_refusal(ipaddress.ip_address(address), GuardPolicy.from_env({})) is None


def test_a_name_is_refused_when_any_of_its_addresses_is() -> None:
    # Given a name resolving to a private address and a metadata one, then the name is refused.
    with pytest.raises(TargetRefusedError, match=r"169\.254\.169\.254"):
        checked_addresses("mixed.test", None, GuardPolicy(), lambda host: ["10.0.0.5", "169.254.169.254"])
    # A name resolving only to allowed addresses yields all of them, in order.
    assert checked_addresses("ok.test", None, GuardPolicy(), lambda host: ["10.0.0.5", "10.0.0.6"]) == [
        ipaddress.ip_address("10.0.0.5"), ipaddress.ip_address("10.0.0.6"),
    ]


def test_each_blocked_range_says_why() -> None:
    # Given the blocked list, then every entry has a reason, and the additions are in it.
    assert all(blocked.reason for blocked in BLOCKED_RANGES)
    networks = {str(blocked.network) for blocked in BLOCKED_RANGES}
    assert {"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "fd00:ec2::23/128"} <= networks


def test_authorities_as_config_writes_them() -> None:
    # Given host:port spellings, then they are read as host and port (or refused).
    assert parse_authority("node-1.internal:9100").port == 9100
    assert parse_authority("[2600:1f18::1]:9100").host == "2600:1f18::1"
    with pytest.raises(InvalidTargetError, match="path"):
        parse_authority("host:9100/metrics")


@pytest.mark.parametrize("target", ["169.254.169.254\\\\@127.0.0.1:18081", "carol:pw@host:9100", "0x7f.1:9100",
                                    "host:9100/metrics", "[fe80::1%eth0]:9100", "h\\u00f6st:9100"])
def test_a_static_target_is_checked_by_the_same_parser_when_the_config_loads(target: str) -> None:
    # Given a static target the scraper could not read safely, then the config is refused,
    # naming the key, and a password in it is never shown.
    with pytest.raises(ConfigError, match=r"scrape_configs\[0\](\.|: )static_configs\[0\]\.targets") as refused:
        parse_config(f'scrape_configs: [{{job_name: a, static_configs: [{{targets: ["{target}"]}}]}}]')
    assert "pw" not in str(refused.value)


def test_an_address_relabelled_into_something_unreadable_drops_the_target() -> None:
    # Given relabelling that writes userinfo into __address__, then the target is dropped with the reason.
    config = parse_config("""
scrape_configs:
  - job_name: a
    static_configs: [{targets: ["app:9100"]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __address__, replacement: "carol:pw@$1"}
""")
    targets, dropped = build_targets(config.scrape_configs[0])
    assert targets == [] and "userinfo" in dropped[0].reason and "pw" not in dropped[0].reason
