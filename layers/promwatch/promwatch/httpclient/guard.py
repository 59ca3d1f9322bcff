"""The target guard: which addresses the scraper may connect to.

A Lambda function (or an EC2/ECS/EKS host running the CLI) can reach endpoints that hand out
credentials or control the process: instance metadata, the ECS and EKS Pod Identity credential
agents, the Lambda Runtime API. A target from config, from service discovery or from a
redirect that points there would turn the scraper against its host, so the guard judges the
very address the client then connects to (:mod:`promwatch.httpclient.connection` pins it): names
are resolved once, every address they resolve to is judged, and the connection goes to one of
those addresses -- never to what a second resolution (DNS rebinding) might answer.

Blocked networks live in :data:`BLOCKED_RANGES`, each with its reason; addresses embedded in
IPv6 (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged as the IPv4 address they
carry. Inside Lambda (``AWS_LAMBDA_RUNTIME_API`` set) the loopback network is refused as well:
it hosts only the Runtime API and extensions there, nothing to scrape.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from promwatch.httpclient.errors import FetchError, TargetRefusedError
from promwatch.httpclient.url import IPAddress, parse_authority, parse_url

Resolver = Callable[[str], Iterable[str]]
"""Host name -> IP address strings."""


@dataclass(frozen=True, slots=True)
class BlockedRange:
    """A network the scraper never connects to (unless ``allow_link_local``), and why."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    reason: str


BLOCKED_RANGES: tuple[BlockedRange, ...] = (
    BlockedRange(ipaddress.ip_network("169.254.0.0/16"),
                 "IPv4 link-local: EC2 instance metadata (169.254.169.254), ECS task metadata and credentials "
                 "(169.254.170.2), EKS Pod Identity agent (169.254.170.23), Amazon DNS and time (169.254.169.253/123)"),
    BlockedRange(ipaddress.ip_network("fe80::/10"), "IPv6 link-local"),
    BlockedRange(ipaddress.ip_network("fd00:ec2::254/128"), "EC2 instance metadata over IPv6"),
    BlockedRange(ipaddress.ip_network("fd00:ec2::23/128"), "EKS Pod Identity agent over IPv6"),
)
"""What the guard refuses everywhere, one entry per network with the reason."""

LAMBDA_LOCAL_REASON = (
    "loopback inside Lambda: the Runtime API (AWS_LAMBDA_RUNTIME_API) and extensions listen there; "
    "a redirect to it could take the function's next invocation"
)
_LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
_UNSPECIFIED_V4 = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """What the guard allows for one job.

    Attributes
    ----------
    allow_link_local
        The job's ``allow_link_local``: True allows :data:`BLOCKED_RANGES`.
    in_lambda
        Running inside Lambda: loopback (and the unspecified address, which reaches it) is
        refused whatever ``allow_link_local`` says.
    """

    allow_link_local: bool = False
    in_lambda: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, allow_link_local: bool = False) -> GuardPolicy:
        """The policy for this process: inside Lambda when ``AWS_LAMBDA_RUNTIME_API`` is set in
        ``environ`` (default ``os.environ``)."""
        environ = os.environ if environ is None else environ
        return cls(allow_link_local=allow_link_local, in_lambda=bool(environ.get("AWS_LAMBDA_RUNTIME_API")))


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), or None."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    packed = ip.packed
    if any(ip in network for network in _NAT64) or (packed[:12] == bytes(12) and int(ip) > 1):
        return ipaddress.IPv4Address(packed[12:])
    return None


def address_refusal(ip: IPAddress, policy: GuardPolicy) -> str | None:
    """Why the scraper must not connect to ``ip``, or None when it may."""
    judged = [ip] + ([v4] if (v4 := embedded_ipv4(ip)) is not None else [])
    for address in judged:
        if policy.in_lambda and _local(address):
            return f"address {ip} is {LAMBDA_LOCAL_REASON}"
        if not policy.allow_link_local:
            for blocked in BLOCKED_RANGES:
                if address in blocked.network:
                    return (f"address {ip} is in {blocked.network} ({blocked.reason}); "
                            "set allow_link_local: true to allow")
    return None


def _local(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv4Address):
        return ip in _LOOPBACK_V4 or ip in _UNSPECIFIED_V4
    return ip.is_loopback or ip.is_unspecified


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (the default resolver).

    Raises
    ------
    OSError
        When the name cannot be resolved.
    """
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, ip: IPAddress | None, policy: GuardPolicy, resolver: Resolver) -> list[IPAddress]:
    """The addresses the scraper may connect to for ``host``: all of them, or a refusal.

    A name is refused when any address it resolves to is refused: a record set that mixes a
    blocked address in is an attack or a mistake either way.

    Raises
    ------
    TargetRefusedError
        When the address (or one the name resolves to) is refused.
    FetchError
        When the name does not resolve.
    """
    if ip is not None:
        reason = address_refusal(ip, policy)
        if reason is not None:
            raise TargetRefusedError(reason)
        return [ip]
    try:
        answers = list(resolver(host))
    except OSError as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or type(exc).__name__}") from None
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer.split("%", 1)[0])
        except ValueError:
            raise FetchError(f"host {host!r} resolved to {answer!r}, which is not an IP address") from None
        reason = address_refusal(address, policy)
        if reason is not None:
            raise TargetRefusedError(f"host {host} resolves to {reason}")
        addresses.append(address)
    if not addresses:
        raise FetchError(f"cannot resolve host {host!r}: no address")
    return addresses


def refusal(
    url_or_address: str,
    *,
    allow_link_local: bool,
    resolver: Resolver = resolve_host,
    policy: GuardPolicy | None = None,
) -> str | None:
    """Why the guard refuses this target, or None when it may be scraped.

    Parameters
    ----------
    url_or_address
        A target URL or its ``host:port``.
    allow_link_local
        The job's ``allow_link_local``.
    resolver
        Host name -> addresses; only called for names, not for IP literals.
    policy
        Overrides ``allow_link_local`` with a whole policy (inside Lambda or not).
    """
    policy = policy or GuardPolicy(allow_link_local=allow_link_local)
    try:
        if "://" in url_or_address:
            authority = parse_url(url_or_address).authority
        else:
            authority = parse_authority(url_or_address)
        checked_addresses(authority.host, authority.ip, policy, resolver)
    except TargetRefusedError as exc:  # InvalidTargetError included
        return str(exc)
    except FetchError:
        return None  # unresolvable: the fetch fails on its own, nothing to guard
    return None
