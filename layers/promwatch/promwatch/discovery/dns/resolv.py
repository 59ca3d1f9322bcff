"""``/etc/resolv.conf`` and the names a lookup tries, read as Prometheus reads them (pure).

Prometheus' DNS discovery reads resolv.conf with miekg/dns' ``ClientConfigFromFile``:
``nameserver`` lines (port 53), ``search`` (or ``domain``: the last one wins), ``options ndots:N``
(0-15, default 1); anything else is ignored. A name is tried as written first when it has more
labels than ``ndots``, then with each search domain appended, then as written when it had not
(``ClientConfig.NameList``); a name with a trailing dot is only tried as written.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from promwatch.discovery.model import DiscoveryConfigError

DNS_PORT = 53
DEFAULT_NDOTS = 1
MAX_NDOTS = 15


@dataclass(frozen=True, slots=True)
class Nameserver:
    """A nameserver's address (an IP literal, IPv6 without brackets) and port."""

    host: str
    port: int = DNS_PORT

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ResolvConf:
    """What a lookup needs from resolv.conf."""

    nameservers: tuple[Nameserver, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = DEFAULT_NDOTS


def parse_resolv_conf(text: str) -> ResolvConf:
    """The nameservers, search list and ``ndots`` of a resolv.conf(5) file."""
    nameservers: list[Nameserver] = []
    search: tuple[str, ...] = ()
    ndots = DEFAULT_NDOTS
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        keyword, args = fields[0], fields[1:]
        if keyword == "nameserver" and args:
            nameservers.append(Nameserver(args[0]))
        elif keyword == "domain":
            search = tuple(args[:1])
        elif keyword == "search":
            search = tuple(args)
        elif keyword == "options":
            for option in args:
                if option.startswith("ndots:"):
                    ndots = min(max(_atoi(option[len("ndots:"):]), 0), MAX_NDOTS)
    return ResolvConf(tuple(nameservers), search, ndots)


def _atoi(text: str) -> int:
    # Go's strconv.Atoi, whose error miekg/dns ignores: 0 for what is not a decimal integer.
    try:
        return int(text) if text.lstrip("+-").isdigit() and text.isascii() else 0
    except ValueError:
        return 0


def name_list(name: str, conf: ResolvConf) -> list[str]:
    """The fully qualified names a lookup of ``name`` tries, in order (miekg/dns' ``NameList``)."""
    if name.endswith("."):
        return [name]
    has_ndots = _count_labels(name) > conf.ndots
    fqdn = name + "."
    names = [fqdn] if has_ndots else []
    names += [_fqdn(fqdn + domain) for domain in conf.search]
    if not has_ndots:
        names.append(fqdn)
    return names


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _count_labels(name: str) -> int:
    return len([label for label in name.split(".") if label])


def parse_nameserver(text: str) -> Nameserver:
    """``10.0.0.2``, ``10.0.0.2:5353``, ``fd00::2`` or ``[fd00::2]:5353`` (a promwatch extension's
    syntax: IP literals only, the port 53 when left out).

    Raises
    ------
    ValueError
        When ``text`` is none of these.
    """
    host, port = text, DNS_PORT
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise DiscoveryConfigError(f"{text!r} is not a nameserver address; expected e.g. 10.0.0.2:53 or [fd00::2]:53")
        host, port_text = inside, rest[1:] if rest else str(DNS_PORT)
        port = _port(port_text, text)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise DiscoveryConfigError(f"{text!r} is not a nameserver address; expected an IP address with an optional port, "
                         "e.g. 10.0.0.2:53 or [fd00::2]:53") from None
    return Nameserver(str(address), port)


def _port(text: str, whole: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise DiscoveryConfigError(f"{whole!r}: port {text!r} is not a number from 1 to 65535")
    return int(text)
