"""Target URLs and addresses, read by one strict parser (pure).

The target guard judges, and the HTTP client connects to, the host and port this parser
returns: there is no second parser whose reading could differ (``urlsplit`` reads the host of
``http://169.254.169.254\\@127.0.0.1/`` as 127.0.0.1 while urllib3 connects to
169.254.169.254). So what is odd is refused rather than read generously: userinfo, backslashes,
whitespace and control characters, non-ASCII hosts, empty ports, and host names that look like
numbers but are not a canonical IPv4 address (``0177.0.0.1``, ``2852039166``, ``0xa9.254.169.254``
reach other addresses through ``inet_aton``).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from promwatch.httpclient.errors import InvalidTargetError
from promwatch.text import shown

DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_MAX_HOST_CHARS = 253
# RFC 3986 characters a request target may carry as they are; anything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Authority:
    """The ``host[:port]`` of a target.

    Attributes
    ----------
    host
        A lower-cased DNS name or an IP address (IPv6 without brackets).
    port
        The port written, or None.
    ip
        The address when ``host`` is an IP literal, else None.
    """

    host: str
    port: int | None
    ip: IPAddress | None

    def netloc(self, default_port: int | None = None) -> str:
        """``host[:port]`` as written in a URL or a Host header (IPv6 bracketed; the port left
        out when it is ``default_port``)."""
        host = f"[{self.host}]" if isinstance(self.ip, ipaddress.IPv6Address) else self.host
        if self.port is None or self.port == default_port:
            return host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class TargetURL:
    """A target URL as the scraper reads it.

    Attributes
    ----------
    scheme
        ``http`` or ``https``.
    authority
        Host and port as written.
    target
        The request target: path and query, percent-encoded, never empty.
    """

    scheme: str
    authority: Authority
    target: str

    @property
    def host(self) -> str:
        """The host the client connects to (and checks the certificate against)."""
        return self.authority.host

    @property
    def port(self) -> int:
        """The port the client connects to (the scheme's default when none is written)."""
        return self.authority.port if self.authority.port is not None else DEFAULT_PORTS[self.scheme]

    @property
    def host_header(self) -> str:
        """The ``Host`` header value."""
        return self.authority.netloc(DEFAULT_PORTS[self.scheme])

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.target}"

    def join(self, location: str) -> TargetURL:
        """The URL a redirect's ``Location`` points to, read by the same parser.

        Raises
        ------
        InvalidTargetError
            When the location is not an acceptable http(s) URL.
        """
        if _FORBIDDEN.search(location):
            raise InvalidTargetError(
                f"redirect location {_shown(location)} holds whitespace, a control character or a backslash"
            )
        return parse_url(urljoin(str(self), location))


def parse_authority(text: str) -> Authority:
    """Read ``host[:port]``: a DNS name, a canonical IPv4 address or a bracketed IPv6 address.

    Raises
    ------
    InvalidTargetError
        Naming the value and what is expected: userinfo, backslashes, whitespace, control or
        non-ASCII characters, a bad or empty port, an IPv6 zone, a number that is not a
        canonical dotted IPv4 address.
    """
    if not text:
        raise InvalidTargetError("empty address; expected host:port")
    if "@" in text:
        raise InvalidTargetError(
            f"address {_shown(text)} holds userinfo ('@'); credentials belong in basic_auth or "
            "authorization, never in the address (they would be published in the instance label)"
        )
    if _FORBIDDEN.search(text) or not text.isascii():
        raise InvalidTargetError(
            f"address {_shown(text)} holds whitespace, a control character, a backslash or a non-ASCII "
            "character; expected host:port (an internationalized name in its xn-- form)"
        )
    if "/" in text or "?" in text or "#" in text:
        what = "a scheme" if "://" in text else "a path"
        raise InvalidTargetError(f"address {_shown(text)} holds {what}; expected host:port")
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise InvalidTargetError(f"address {_shown(text)}: missing ']' after an IPv6 address")
        host_text, rest = text[1:close], text[close + 1:]
        if "%" in host_text:
            raise InvalidTargetError(f"address {_shown(text)}: IPv6 zones are not supported")
        try:
            ip: IPAddress | None = ipaddress.IPv6Address(host_text)
        except ValueError:
            raise InvalidTargetError(f"address {_shown(text)}: {host_text!r} is not an IPv6 address") from None
        if rest and not rest.startswith(":"):
            raise InvalidTargetError(f"address {_shown(text)}: expected ':port' after ']'")
        port_text = rest[1:] if rest else None
        host = str(ip)
    else:
        host_text, colon, port_text_or_empty = text.partition(":")
        if ":" in port_text_or_empty:
            raise InvalidTargetError(f"address {_shown(text)}: an IPv6 address must be in brackets ([::1]:9100)")
        port_text = port_text_or_empty if colon else None
        host, ip = _host(host_text.lower(), text)
    port = None if port_text is None else _port(port_text, text)
    return Authority(host, port, ip)


def parse_url(url: str) -> TargetURL:
    """Read an ``http``/``https`` URL strictly (see the module docstring).

    Raises
    ------
    InvalidTargetError
        Naming the URL and what is wrong with it.
    """
    match = _SCHEME.match(url)
    if match is None:
        raise InvalidTargetError(f"{_shown(url)} is not a URL; expected http://host:port/path")
    scheme = match[1].lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidTargetError(f"{_shown(url)}: scheme {scheme!r} is not supported; expected http or https")
    rest = url[match.end():]
    end = len(rest)
    for delimiter in "/?#":
        found = rest.find(delimiter)
        if 0 <= found < end:
            end = found
    try:
        authority = parse_authority(rest[:end])
    except InvalidTargetError as exc:
        raise InvalidTargetError(f"{_shown(url)}: {exc}") from None
    tail = rest[end:].partition("#")[0]
    if _FORBIDDEN.search(tail.replace("\\", "")):
        raise InvalidTargetError(f"{_shown(url)}: the path holds whitespace or a control character")
    if not tail.startswith("/"):
        tail = "/" + tail
    return TargetURL(scheme, authority, quote(tail, safe=_PATH_SAFE))


def _host(host: str, text: str) -> tuple[str, IPAddress | None]:
    if not host:
        raise InvalidTargetError(f"address {_shown(text)} has no host; expected host:port")
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # A name ending in a number is an IPv4 address to resolvers (inet_aton reads 0177.1 as
        # 127.0.0.1): only the canonical dotted form is accepted, so what is judged is what is reached.
        try:
            return host, ipaddress.IPv4Address(host)
        except ValueError:
            raise InvalidTargetError(
                f"address {_shown(text)}: {host!r} is not a canonical IPv4 address (a.b.c.d, decimal, "
                "no leading zeros)"
            ) from None
    if len(name) > _MAX_HOST_CHARS or not all(_LABEL.match(label) for label in labels):
        raise InvalidTargetError(
            f"address {_shown(text)}: {host!r} is not a host name; expected DNS labels of letters, digits, "
            "'-' and '_' (at most 63 characters each, 253 in all)"
        )
    return host, None


def _port(port: str, text: str) -> int:
    if not port.isdigit() or not port.isascii() or len(port) > 5 or not 1 <= int(port) <= 65535:
        raise InvalidTargetError(f"address {_shown(text)}: port {port!r} is not a number in 1..65535")
    return int(port)


def _shown(value: str) -> str:
    return shown(value, 200)
