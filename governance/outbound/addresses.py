"""Which URLs Steward may post to, and which addresses it may connect to. No ORM.

Webhooks are posted by the server from inside its own network, so a URL naming the server
itself, its private network or a cloud metadata service would let any webhook owner send
signed requests there (server-side request forgery). The rules:

- https only; http as well when `STEWARD_WEBHOOK_ALLOW_HTTP` is on (development);
- no user name or password, whitespace, control characters or backslashes in the URL;
- every address the host resolves to is public: not loopback, private, link-local (which
  holds the metadata service 169.254.169.254), multicast, reserved, unspecified or shared,
  nor an IPv6 form that carries such an IPv4 address (`::ffff:127.0.0.1`, 6to4, NAT64);
  numeric hosts are read as the C resolver reads them (`2130706433`, `0x7f.1` are 127.0.0.1);
- `STEWARD_WEBHOOK_ALLOWLIST` names the internal receivers (addresses, networks or host
  names) that are exempt from the address rule.

`validate_outbound_url` applies the rules when a URL is stored; `resolve` applies them again
when it is used, once, and returns the one address the connection must go to.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"https": 443, "http": 80}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(ValueError):
    """The URL, or an address its host resolves to, may not be posted to; says why."""


@dataclass(frozen=True)
class Target:
    """A parsed outbound URL: what to resolve, what to connect to, what to ask for."""

    scheme: str
    host: str  # lower case, no trailing dot, an IPv6 address without brackets
    port: int
    path: str  # path and query, as sent on the request line


def parse(url: str) -> Target:
    """The URL's parts, or Refused when its form is not allowed (no address checks)."""
    if not isinstance(url, str) or not url.isascii():
        raise Refused("the URL must be plain ASCII (write host names in their xn-- form)")
    if any(ch.isspace() or ord(ch) < 0x20 or ch in "\\\x7f" for ch in url):
        raise Refused("the URL may not contain whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"the URL cannot be read: {exc}") from exc
    schemes = ("https", "http") if settings.STEWARD_WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes:
        raise Refused(f"the URL must use {' or '.join(schemes)}, not {parts.scheme or 'nothing'}")
    if "@" in parts.netloc:
        raise Refused("a user name or password in the URL is not allowed")
    host = (parts.hostname or "").removesuffix(".")
    if not host:
        raise Refused("the URL names no host")
    if port == 0:
        raise Refused("port 0 is not a port")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme], path)


def literal_address(host: str) -> IPAddress | None:
    """The address a numeric host stands for, read as the C resolver reads it (decimal,
    octal, hex and short forms included), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress) -> str | None:
    """Why `ip` may not be connected to, or None for a public address."""
    inner = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if inner is not None and (reason := address_refusal(inner)):
        return f"{ip} carries {reason}"
    kinds = [
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local (cloud metadata)", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    ]
    kind = next((name for name, hit in kinds if hit), None)
    return f"{ip}, a {kind} address" if kind else None


def allowlist() -> tuple[list[IPNetwork], set[str]]:
    """`STEWARD_WEBHOOK_ALLOWLIST` read as networks (single addresses included) and names."""
    networks: list[IPNetwork] = []
    names: set[str] = set()
    for entry in settings.STEWARD_WEBHOOK_ALLOWLIST:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            if "/" in entry or ":" in entry:
                raise ImproperlyConfigured(
                    f"STEWARD_WEBHOOK_ALLOWLIST: {entry!r} is neither a network nor a host name"
                ) from None
            names.add(entry.lower().removesuffix("."))
    return networks, names


def _is_local_name(host: str) -> bool:
    # RFC 6761: "localhost" and every name under it are loopback, whatever DNS says.
    return host == "localhost" or host.endswith(".localhost")


def resolve(target: Target) -> IPAddress:
    """The one address to connect to. The host is resolved once here and every address it
    resolves to must pass, so the caller connects to exactly what was vetted and a second
    lookup (DNS rebinding) cannot change it. Raises Refused; a name that does not resolve
    raises socket.gaierror (an OSError: a failure worth retrying)."""
    networks, names = allowlist()
    allowed_name = target.host in names
    literal = literal_address(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        if _is_local_name(target.host) and not allowed_name:
            raise Refused(f"{target.host} is a loopback name")
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
    for ip in addresses:
        if allowed_name or any(ip in net for net in networks):
            continue
        if reason := address_refusal(ip):
            raise Refused(f"{target.host} resolves to {reason}")
    return addresses[0]


def validate_outbound_url(value: str) -> None:
    """The validator of every stored outbound URL (model fields and API inputs alike): the
    form rules, and the address rules for numeric hosts and names that resolve now. A name
    that does not resolve yet passes here; the send-time check decides then."""
    try:
        resolve(parse(value))
    except Refused as exc:
        raise ValidationError(f"not an allowed webhook URL: {exc}", code="outbound_url") from exc
    except (OSError, UnicodeError):
        pass
