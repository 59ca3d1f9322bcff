"""The target guard: no scraping of link-local or instance-metadata addresses by default.

A Lambda function (or an EC2/ECS host) can reach the instance metadata service and the ECS
credentials endpoint on link-local addresses; a config (or a redirect) pointing there would
turn the scraper into a credentials leak. Hostnames are resolved first (with an injectable
resolver) so a name that points there is refused too.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str], Iterable[str]]
"""Host name -> IP address strings."""

BLOCKED_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local: EC2 IMDS, ECS task metadata
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # EC2 IMDS over IPv6
)


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (the default resolver)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []  # unresolvable: the fetch fails on its own, nothing to guard
    return [str(info[4][0]) for info in infos]


def blocked_address(address: str) -> bool:
    """True for an IP address in a blocked network (IPv4-mapped IPv6 included)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in BLOCKED_NETWORKS)


def host_of(url_or_address: str) -> str:
    """The host part of a URL or ``host:port`` address (IPv6 brackets removed)."""
    netloc = urlsplit(url_or_address if "://" in url_or_address else f"//{url_or_address}")
    return netloc.hostname or ""


def refusal(url_or_address: str, *, allow_link_local: bool, resolver: Resolver = resolve_host) -> str | None:
    """Why the guard refuses this target, or None when it may be scraped.

    Parameters
    ----------
    url_or_address
        A target URL or its ``host:port``.
    allow_link_local
        The job's ``allow_link_local``; True switches the guard off.
    resolver
        Host name -> addresses; only called for names, not for IP literals.
    """
    if allow_link_local:
        return None
    host = host_of(url_or_address)
    if not host:
        return None
    if blocked_address(host):
        return f"address {host} is link-local or instance metadata (set allow_link_local: true to allow)"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return None
    except ValueError:
        pass
    for address in resolver(host):
        if blocked_address(address):
            return (
                f"host {host} resolves to {address}, a link-local or instance-metadata address "
                "(set allow_link_local: true to allow)"
            )
    return None
