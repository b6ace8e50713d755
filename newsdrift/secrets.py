"""Secrets never reach output: one ``redact`` for messages, errors and logs.

It masks two things: credentials written into any URL (``user:password@``), and
the fragments of registered secrets (alert channel URLs with tokens in their path).
Apprise and urllib3 log request URLs at debug level, so masking our own messages
is not enough: the filter is attached to their loggers too, and every error we
store or print goes through ``redact`` first.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
_MIN_PASSWORD = 4
_MIN_TOKEN = 6

_lock = threading.Lock()
_fragments: set[str] = set()
_ordered: list[str] = []

# Loggers that may print a channel URL (or part of it); filters apply where a record is created.
_LOGGERS = (
    "apprise",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "requests",
    "newsdrift.alert",
    "newsdrift.alert.channels",
    "newsdrift.alert.delivery",
    "newsdrift.alert.matching",
    "newsdrift.alert.monitors",
    "newsdrift.alert.rules",
    "newsdrift.alert.sync",
    "newsdrift.cli.alerts",
    "newsdrift.alert.documents",
    "newsdrift.alert.service",
)


def url_fragments(url: str) -> set[str]:
    """The parts of an apprise URL that may be secret: the URL, credentials, tokens in host/path/query."""
    found = {url.strip()}
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return found
    if parts.password and len(parts.password) >= _MIN_PASSWORD:
        found.add(parts.password)
    if parts.username and len(parts.username) >= _MIN_PASSWORD:
        found.add(parts.username)
    # Not ``hostname``: it is lower-cased, and a token must be masked as written.
    host = parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0]
    # Several apprise schemas carry a token where the host would be (slack://TokenA/TokenB/TokenC).
    if "." not in host and ":" not in host and host != "localhost" and len(host) >= 8:
        found.add(host)
    for segment in parts.path.split("/"):
        if _looks_like_token(segment):
            found.add(segment)
    for _key, value in parse_qsl(parts.query, keep_blank_values=False):
        if _looks_like_token(value):
            found.add(value)
    found |= {unquote(f) for f in found}
    return {f for f in found if f}


def _looks_like_token(value: str) -> bool:
    """A token has digits in it or is long; a plain word such as ``alerts`` or ``hooks`` is a path, and
    masking it would garble every message and error that uses the word."""
    if len(value) < _MIN_TOKEN:
        return False
    return any(c.isdigit() for c in value) or len(value) >= 16 or not value.isalpha() or not value.islower()


def register_secret(url: str) -> None:
    """Remember a secret URL so that it is masked everywhere from now on."""
    fragments = url_fragments(url)
    with _lock:
        if fragments <= _fragments:
            return
        _fragments.update(fragments)
        # Longest first, so a whole URL is masked before its pieces.
        _ordered[:] = sorted(_fragments, key=len, reverse=True)
    install_log_redaction()


_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")


def redact(text: object) -> str:
    """``text`` without URL credentials and with every registered secret fragment replaced by ``***``."""
    value = _URL_USERINFO.sub(r"\g<scheme>", str(text))
    with _lock:
        fragments = list(_ordered)
    for fragment in fragments:
        if fragment in value:
            value = value.replace(fragment, MASK)
    return value


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and exception text) with secrets masked; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ordered:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message += "\n" + record.stack_info
            record.stack_info = None
        record.msg = redact(message)
        record.args = None
        return True


_FILTER = RedactingFilter()
_installed: set[str] = set()


def install_log_redaction() -> None:
    """Attach the filter to every logger that may see a channel URL (idempotent)."""
    for name in _LOGGERS:
        if name in _installed:
            continue
        logging.getLogger(name).addFilter(_FILTER)
        _installed.add(name)


install_log_redaction()
