"""Build the store client (opensearch-py, for OpenSearch and Elasticsearch) from settings; fail fast with a
useful message."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from opensearchpy import OpenSearch
from opensearchpy.exceptions import (
    AuthenticationException,
    AuthorizationException,
    ConnectionTimeout,
    TransportError,
)
from opensearchpy.exceptions import (
    ConnectionError as OSConnectionError,
)

from newsdrift.errors import ClusterUnavailable
from newsdrift.secrets import redact
from newsdrift.settings import Settings

T = TypeVar("T")


def resolve_url(settings: Settings) -> str:
    """NEWSDRIFT_STORE_URL when set, else the embedded node's recorded URL
    (the engine of NEWSDRIFT_ENGINE), else its default port."""
    if settings.store_url:
        return settings.store_url
    from newsdrift.ops import node  # local: node pulls in subprocess machinery

    state = node.read_state(settings, settings.engine)
    if state and state.url:
        return state.url
    return f"http://127.0.0.1:{node.node_port(settings, settings.engine)}"


def wants_compression(setting: str, host: str | None) -> bool:
    """Whether to gzip request bodies: ``auto`` compresses toward any node but one on loopback."""
    if setting != "auto":
        return setting == "on"
    if host in (None, "", "localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a host name: a node elsewhere


def make_client(settings: Settings, url: str | None = None, **overrides: Any) -> OpenSearch:
    """A client with timeouts, retries on connection errors and TLS verification on by default."""
    url = url or resolve_url(settings)
    parts = urlsplit(url)
    kwargs: dict[str, Any] = {
        "hosts": [url],
        "timeout": settings.store_timeout,
        "max_retries": settings.store_retries,
        "retry_on_timeout": True,
        "http_compress": wants_compression(settings.store_compress, parts.hostname),
    }
    if parts.scheme == "https":
        kwargs.update(use_ssl=True, verify_certs=settings.store_verify_certs, ssl_show_warn=False)
        if settings.store_ca_certs:
            kwargs["ca_certs"] = str(settings.store_ca_certs)
    if settings.store_user:
        password = settings.store_password.get_secret_value() if settings.store_password else ""
        kwargs["http_auth"] = (settings.store_user, password)
    kwargs.update(overrides)
    return OpenSearch(**kwargs)


def connect(settings: Settings, url: str | None = None, check_timeout: float = 5.0) -> OpenSearch:
    """A client that has answered once; raises ``ClusterUnavailable`` within a bounded time otherwise."""
    url = url or resolve_url(settings)
    probe = make_client(settings, url, timeout=check_timeout, max_retries=1)
    try:
        probe.info()
    except (AuthenticationException, AuthorizationException) as exc:
        raise ClusterUnavailable(
            f"OpenSearch at {redact(url)} refused the credentials ({exc.status_code}); "
            "check NEWSDRIFT_STORE_USER / NEWSDRIFT_STORE_PASSWORD."
        ) from None
    except (OSConnectionError, ConnectionTimeout) as exc:
        hint = (
            "check NEWSDRIFT_STORE_URL"
            if settings.store_url
            else f"start the embedded node with `newsdrift node start --engine {settings.engine}`, "
            "or set NEWSDRIFT_STORE_URL"
        )
        reason = type(exc.info).__name__ if getattr(exc, "info", None) else type(exc).__name__
        raise ClusterUnavailable(f"OpenSearch at {redact(url)} is unreachable ({reason}); {hint}.") from None
    except TransportError as exc:
        raise ClusterUnavailable(f"OpenSearch at {redact(url)} answered {exc.status_code}: {exc.error}") from None
    finally:
        probe.close()
    return make_client(settings, url)


def cluster_call(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store call, turning a dead cluster into ``ClusterUnavailable`` (a pass cannot go on without it)."""
    try:
        return func(*args, **kwargs)
    except (OSConnectionError, ConnectionTimeout) as exc:
        raise ClusterUnavailable(f"the store became unreachable during the run: {exc}") from None
