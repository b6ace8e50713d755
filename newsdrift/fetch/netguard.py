"""SSRF guard: refuse URLs whose host is, or resolves to, a non-public address.

Two layers use the same rules:

* ``NetGuard.check_url`` runs before every request and every redirect hop; it
  resolves the host (all addresses) and gives a readable refusal reason.
* ``GuardedBackend`` is an httpcore network backend that resolves, checks and
  then connects to the checked IP itself, so a DNS answer that changes between
  the check and the connect (DNS rebinding) cannot reach a private address.

``allowed_networks`` is an explicit allow-list (e.g. ``127.0.0.0/8`` for the
loopback test server) that passes even when private networks are refused; it
does not open anything else, so tests can still prove that ``10.0.0.1`` is
refused. ``resolver`` replaces ``getaddrinfo`` (used by tests to give a name a
private address without any DNS or traffic).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore

from newsdrift.fetch.settings import FetchSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class GuardError(Exception):
    """A URL the guard will not let through; ``reason`` is one readable line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BlockedAddress(GuardError):
    """The URL's scheme is not http(s) or its host maps to a non-public address."""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address tunnelled inside an IPv6 one (mapped, 6to4, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_kind(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address ("loopback", "private", ...), None if it is."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        kind = address_kind(inner)
        if kind is not None:
            return kind
    # Order matters: 127.0.0.1 is also "private" for Python, loopback says more.
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    if inner is None and not ip.is_global:
        return "non-public"  # e.g. 100.64.0.0/10 shared address space
    return None


async def _getaddrinfo(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class NetGuard:
    """The network policy for outgoing requests (see module docstring)."""

    allow_private: bool = False
    allowed_networks: tuple[Network, ...] = ()
    resolver: Resolver | None = None

    @classmethod
    def from_settings(
        cls,
        settings: FetchSettings,
        *,
        allowed_networks: Iterable[str | Network] = (),
        resolver: Resolver | None = None,
    ) -> NetGuard:
        """Guard for ``settings.allow_private_networks`` plus the allow-list (``settings.allowed_networks``
        and ``allowed_networks``)."""
        configured = (*settings.allowed_networks, *allowed_networks)
        nets = tuple(ipaddress.ip_network(n, strict=False) for n in configured)
        return cls(settings.allow_private_networks, nets, resolver)

    def refusal(self, ip: IPAddress) -> str | None:
        """The kind of address that makes ``ip`` refused, or None when allowed."""
        if self.allow_private or any(ip in net for net in self.allowed_networks):
            return None
        return address_kind(ip)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """All addresses of ``host`` (an IP literal resolves to itself)."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        resolver = self.resolver or _getaddrinfo
        try:
            found = await resolver(host, port)
        except OSError as exc:
            raise GuardError(f"cannot resolve host {host}: {exc.strerror or exc}") from None
        if not found:
            raise GuardError(f"cannot resolve host {host}: no addresses")
        return [ipaddress.ip_address(a) for a in found]

    async def checked_addresses(self, host: str, port: int, *, redirect: bool = False) -> list[IPAddress]:
        """Resolve ``host`` and raise ``BlockedAddress`` if any address is refused."""
        addresses = await self.resolve(host, port)
        literal = len(addresses) == 1 and str(addresses[0]) == host
        for ip in addresses:
            kind = self.refusal(ip)
            if kind is None:
                continue
            prefix = "redirect to " if redirect else ""
            if literal:
                raise BlockedAddress(f"{prefix}{kind} address {ip} refused")
            raise BlockedAddress(f"{prefix}{host} (resolves to {kind} address {ip}) refused")
        return addresses

    async def check_url(self, url: str, *, redirect: bool = False) -> None:
        """Raise ``GuardError`` unless ``url`` is http(s) on an allowed address."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise GuardError(f"invalid URL {url!r}: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            prefix = "redirect to" if redirect else "URL with"
            raise BlockedAddress(f"{prefix} unsupported scheme {scheme or '(none)'!r} refused")
        host = parts.hostname
        if not host:
            raise GuardError(f"invalid URL {url!r}: no host")
        if self.allow_private:
            return
        await self.checked_addresses(host, port or (443 if scheme == "https" else 80), redirect=redirect)


class GuardedBackend(httpcore.AnyIOBackend):
    """Connects only to addresses the guard accepted, pinning the checked IP."""

    def __init__(self, guard: NetGuard) -> None:
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._guard.allow_private:
            return await super().connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = await self._guard.checked_addresses(host.strip("[]"), port)
        error: Exception | None = None
        for ip in addresses:
            try:
                return await super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error
