"""DNS service discovery (``dns_sd_configs``) and the small DNS client it needs.

Python's standard library resolves addresses only (no SRV, MX or NS), so promwatch speaks DNS
itself: :mod:`.message` builds queries and reads answers (pure, bounds-checked), :mod:`.resolv`
reads resolv.conf and the search list as Prometheus does, :mod:`.client` asks nameservers over
UDP and TCP, :mod:`.sd` turns answers into target groups.
"""
from __future__ import annotations

from promwatch.discovery.dns.message import DnsMessageError
from promwatch.discovery.dns.sd import DnsSDConfig

__all__ = ["DnsMessageError", "DnsSDConfig"]
