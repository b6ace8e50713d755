"""SSRF guard: every refusal happens before any connection (no traffic leaves loopback).

Private targets other than loopback are only ever *named* here (10.0.0.1,
169.254.169.254, ...); the guard must refuse them before connecting, so a
test that reached the network would fail with a different reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading

import httpx
import pytest

from newsdrift.fetch.http import FetchError, guarded_get, make_client
from newsdrift.fetch.netguard import BlockedAddress, GuardError, NetGuard, address_kind
from newsdrift.settings import load_settings

LOOPBACK = ["127.0.0.0/8", "::1/128"]


def _settings(**overrides):
    values = {"allow_private_networks": False, "per_host_delay": 0.0, "http_timeout": 3.0, **overrides}
    return load_settings(**values)


def _resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:a00:1::", "private"),  # 6to4 wrapping 10.0.0.1
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 wrapping 127.0.0.1
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kind(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/admin", "private address 10.0.0.1 refused"),
        ("http://169.254.169.254/latest/meta-data/", "link-local address 169.254.169.254 refused"),
        ("http://[::1]:8080/", "loopback address ::1 refused"),
        ("http://0.0.0.0:80/", "unspecified address 0.0.0.0 refused"),
        ("ftp://example.org/file", "URL with unsupported scheme 'ftp' refused"),
        ("file:///etc/passwd", "URL with unsupported scheme 'file' refused"),
    ],
)
def test_check_url_refuses(url: str, reason: str) -> None:
    guard = NetGuard.from_settings(_settings())
    with pytest.raises(BlockedAddress) as info:
        asyncio.run(guard.check_url(url))
    assert info.value.reason == reason


def test_hostnames_are_checked_on_every_resolved_address() -> None:
    table = {
        "intranet.test": ["10.1.2.3"],
        "mixed.test": ["93.184.216.34", "192.168.0.7"],
        "ok.test": ["93.184.216.34"],
    }
    guard = NetGuard.from_settings(_settings(), resolver=_resolver(table))
    with pytest.raises(BlockedAddress, match=r"^intranet.test \(resolves to private address 10.1.2.3\) refused$"):
        asyncio.run(guard.check_url("https://intranet.test/feed"))
    with pytest.raises(BlockedAddress, match=r"mixed.test \(resolves to private address 192.168.0.7\)"):
        asyncio.run(guard.check_url("https://mixed.test/"))
    asyncio.run(guard.check_url("https://ok.test/"))  # public: no exception
    with pytest.raises(GuardError, match="cannot resolve host nowhere.test"):
        asyncio.run(guard.check_url("https://nowhere.test/"))


def test_real_resolution_of_localhost_is_refused() -> None:
    guard = NetGuard.from_settings(_settings())
    with pytest.raises(BlockedAddress, match=r"localhost \(resolves to loopback address"):
        asyncio.run(guard.check_url("http://localhost:1/"))


def test_allow_list_and_allow_private() -> None:
    allow_loopback = NetGuard.from_settings(_settings(), allowed_networks=LOOPBACK)
    asyncio.run(allow_loopback.check_url("http://127.0.0.1:9/"))
    with pytest.raises(BlockedAddress, match="private address 10.0.0.1"):
        asyncio.run(allow_loopback.check_url("http://10.0.0.1/"))
    everything = NetGuard.from_settings(_settings(allow_private_networks=True))
    asyncio.run(everything.check_url("http://10.0.0.1/"))  # checked only, nothing is sent
    with pytest.raises(BlockedAddress, match="scheme 'gopher'"):
        asyncio.run(everything.check_url("gopher://10.0.0.1/"))


class _CountingListener:
    """A loopback TCP listener that counts connections (and answers nothing useful)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_connect_time_check_defeats_dns_rebinding() -> None:
    """The name passes the pre-flight check, then resolves to 10.x when the socket is opened."""
    listener = _CountingListener()
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    settings = _settings()
    guard = NetGuard.from_settings(settings, allowed_networks=LOOPBACK, resolver=rebinding)

    async def scenario() -> str:
        async with make_client(settings, guard) as client:
            try:
                await guarded_get(
                    client,
                    f"http://rebind.test:{listener.port}/",
                    guard=guard,
                    max_bytes=1000,
                    timeout=2,
                    max_redirects=0,
                )
            except FetchError as exc:
                return exc.reason
        return "no error"

    try:
        reason = asyncio.run(scenario())
    finally:
        listener.close()
    assert reason == "rebind.test (resolves to private address 10.0.0.1) refused"
    assert listener.connections == 0


def test_guarded_client_connects_to_the_checked_address() -> None:
    listener = _CountingListener()
    settings = _settings()
    guard = NetGuard.from_settings(
        settings, allowed_networks=LOOPBACK, resolver=_resolver({"site.test": ["127.0.0.1"]})
    )

    async def scenario() -> httpx.Response:
        async with make_client(settings, guard) as client:
            return await client.get(f"http://site.test:{listener.port}/")

    try:
        response = asyncio.run(scenario())
    finally:
        listener.close()
    assert response.status_code == 200 and response.text == "ok"
    assert listener.connections == 1
