"""``dns_sd_configs``: targets from DNS records (SRV, A, AAAA, MX, NS), as Prometheus finds them.

This is how AWS Cloud Map namespaces are reached (a DNS namespace answers SRV and A queries for
its services). Each name is looked up through resolv.conf's search list
(:mod:`promwatch.discovery.dns.client`) and becomes one group, with one target per record of
the answer: ``__address__`` is the SRV target and port, the MX/NS host and ``port``, or the
A/AAAA address and ``port``; every target has ``__meta_dns_name`` (the name as configured) and
``__meta_dns_srv_record_target``, ``__meta_dns_srv_record_port``,
``__meta_dns_mx_record_target``, ``__meta_dns_ns_record_target`` (the record's own name with its
trailing dot, empty for other types). CNAME records in an answer are skipped.

As in Prometheus, names are independent: one that cannot be resolved keeps its last group while
the others are refreshed (:attr:`DiscoveryError.partial`). A promwatch extension, ``nameservers``,
asks the given nameservers instead of resolv.conf's. Lookups run in parallel and end within
:data:`DNS_SD_DEADLINE_SECONDS`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import Field, field_validator, model_validator

from promwatch.discovery.base import DNS_LOOKUP, RESOLV_CONF_PATH, DiscoveryEnv, SDConfig
from promwatch.discovery.dns.client import lookup
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
    Record,
    SrvData,
    encode_name,
)
from promwatch.discovery.dns.resolv import ResolvConf, parse_nameserver, parse_resolv_conf
from promwatch.discovery.model import ADDRESS, DiscoveryConfigError, DiscoveryError, TargetGroup
from promwatch.units import PositiveDuration

logger = logging.getLogger("promwatch.discovery")

NAME_LABEL = "__meta_dns_name"
SRV_TARGET_LABEL = "__meta_dns_srv_record_target"
SRV_PORT_LABEL = "__meta_dns_srv_record_port"
MX_TARGET_LABEL = "__meta_dns_mx_record_target"
NS_TARGET_LABEL = "__meta_dns_ns_record_target"
RESOLV_CONF = "/etc/resolv.conf"
DNS_SD_DEADLINE_SECONDS = 10.0
"""Longest time one ``dns_sd_configs`` entry's lookups take (names that are not resolved by then
fail and keep their last group)."""
MAX_PARALLEL_LOOKUPS = 8
QUERY_TYPES = {"SRV": TYPE_SRV, "A": TYPE_A, "AAAA": TYPE_AAAA, "MX": TYPE_MX, "NS": TYPE_NS}

Lookup = Callable[[str, int], Message | None]
"""``(name, query type) -> answer``, or None when no name of it exists; raises DiscoveryError."""


class DnsSDConfig(SDConfig):
    """A ``dns_sd_configs`` entry."""

    names: list[str]
    type: Literal["SRV", "A", "AAAA", "MX", "NS"] = "SRV"
    port: int = Field(default=0, ge=0, le=65535)
    """The targets' port for every type but SRV (whose records carry theirs)."""
    refresh_interval: PositiveDuration = 30.0
    nameservers: list[str] | None = None
    """promwatch extension: ask these (``10.0.0.2``, ``10.0.0.2:5353``, ``[fd00::2]:53``) instead
    of resolv.conf's nameservers; the search list still comes from resolv.conf."""

    @field_validator("names")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        if not names:
            raise DiscoveryConfigError("DNS-SD config must contain at least one SRV record name")
        for name in names:
            try:
                encode_name(name)
            except DnsMessageError as exc:
                raise DiscoveryConfigError(str(exc)) from None
        return names

    @field_validator("type", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        # Prometheus reads the type in any case (``srv``, ``Aaaa``).
        return value.upper() if isinstance(value, str) else value

    @field_validator("nameservers")
    @classmethod
    def _nameservers(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise DiscoveryConfigError("expected at least one nameserver (or leave the key out to use resolv.conf's)")
            for server in value:
                parse_nameserver(server)
        return value

    @model_validator(mode="after")
    def _port_unless_srv(self) -> DnsSDConfig:
        if self.type != "SRV" and self.port == 0:
            raise DiscoveryConfigError("a port is required in DNS-SD configs for all record types except SRV")
        return self

    def discover(self, env: DiscoveryEnv) -> list[TargetGroup]:
        """One group per name, each from a lookup of ``type`` records.

        Raises
        ------
        DiscoveryError
            Naming the names that could not be resolved, with the groups of those that were
            (``partial``).
        """
        resolve: Lookup | None = env.extras.get(DNS_LOOKUP)
        if resolve is None:
            resolve = self._system_lookup(env)
        qtype = QUERY_TYPES[self.type]
        workers = min(len(self.names), MAX_PARALLEL_LOOKUPS)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="promwatch-dns-sd") as pool:
            futures = [(name, pool.submit(resolve, name, qtype)) for name in self.names]
        groups: list[TargetGroup] = []
        problems: list[str] = []
        for name, future in futures:
            try:
                answer = future.result()
            except DiscoveryError as exc:
                problems.append(str(exc))
                continue
            group, skipped = answer_group(name, answer, self.port)
            for record in skipped:
                logger.warning("dns_sd %r: skipping a record of type %d (expected SRV, A, AAAA, MX or NS)",
                               name, record.rtype)
            groups.append(group)
        if problems:
            raise DiscoveryError("; ".join(problems), partial=groups)
        return groups

    def _system_lookup(self, env: DiscoveryEnv) -> Lookup:
        """Lookups through resolv.conf (``env.extras[RESOLV_CONF_PATH]``, a path, for tests) and the
        configured nameservers, ending by the deadline."""
        path = str(env.extras.get(RESOLV_CONF_PATH, RESOLV_CONF))
        try:
            conf = parse_resolv_conf(Path(path).read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            if self.nameservers is None:
                raise DiscoveryError(f"dns_sd: could not load {path}: {exc.strerror or exc}") from None
            conf = ResolvConf()
        if self.nameservers is not None:
            conf = ResolvConf(tuple(map(parse_nameserver, self.nameservers)), conf.search, conf.ndots)
        deadline = time.monotonic() + DNS_SD_DEADLINE_SECONDS
        return lambda name, qtype: lookup(name, qtype, conf, deadline)


class NameGroup(NamedTuple):
    """What one name's answer made: its group, and the records that made no target."""

    group: TargetGroup
    skipped: tuple[Record, ...]
    """Records of a type that is no target (TXT, ...), for the caller to report; CNAMEs, which
    precede the addresses of an alias, are not among them."""


def answer_group(name: str, answer: Message | None, port: int) -> NameGroup:
    """The group of one name: a target per SRV, MX, NS, A or AAAA record of its answer, and the
    records of other types, skipped (pure: the caller reports them).

    Parameters
    ----------
    name
        The name as configured (``__meta_dns_name`` and the group's source).
    answer
        The answer, or None when the name does not exist (an empty group).
    port
        The port of A, AAAA, MX and NS targets.
    """
    targets = []
    skipped: list[Record] = []
    for record in answer.answers if answer is not None else ():
        srv_target = srv_port = mx_target = ns_target = ""
        data = record.data
        if isinstance(data, SrvData):
            srv_target, srv_port = data.target, str(data.port)
            # As Prometheus: the address without the final dot of a rooted name.
            address = host_port(data.target.rstrip("."), data.port)
        elif isinstance(data, MxData):
            mx_target = data.exchange
            address = host_port(data.exchange.rstrip("."), port)
        elif record.rtype == TYPE_NS and isinstance(data, str):
            ns_target = data
            address = host_port(data.rstrip("."), port)
        elif record.rtype in (TYPE_A, TYPE_AAAA) and isinstance(data, str):
            address = host_port(data, port)
        elif record.rtype == TYPE_CNAME:
            continue  # an A/AAAA answer through an alias carries the alias first
        else:
            skipped.append(record)
            continue
        targets.append({
            ADDRESS: address,
            NAME_LABEL: name,
            SRV_TARGET_LABEL: srv_target,
            SRV_PORT_LABEL: srv_port,
            MX_TARGET_LABEL: mx_target,
            NS_TARGET_LABEL: ns_target,
        })
    return NameGroup(TargetGroup(source=name, targets=tuple(targets)), tuple(skipped))


def host_port(host: str, port: int) -> str:
    """``host:port``, an IPv6 address in brackets (Go's ``net.JoinHostPort``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
