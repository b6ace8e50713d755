"""Fault specifications for ``SampleServer``: what to break, on which path, for how many requests.

Kinds and their parameters (``times=K`` on any kind: only the first K requests
for the path are faulted, later ones are served normally):

``status``        code=500, body=None
``retry_after``   code=429 (or 503), seconds=1, http_date=False (send an HTTP-date instead of seconds)
``slow``          delay=0 (sleep after the headers, before the body), before_headers=0 (sleep before
                  the status line), chunk_size=0 + interval=0 (trickle the body chunk by chunk)
``oversized``     size=20 MiB, content_type="text/html; charset=utf-8", declare_length=True
                  (False: chunked transfer with no Content-Length)
``redirect``      location (required; "{base_url}" is substituted), code=302
``content_type``  value (required): serve the normal body with this Content-Type
``body``          body (required, bytes or str), content_type=None (keep the file's), status=200
``disconnect``    (no parameters) close the connection without answering
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_SPECS: dict[str, tuple[frozenset[str], dict[str, Any]]] = {
    # kind: (required params, optional params with defaults)
    "status": (frozenset(), {"code": 500, "body": None}),
    "retry_after": (frozenset(), {"code": 429, "seconds": 1, "http_date": False}),
    "slow": (frozenset(), {"delay": 0.0, "before_headers": 0.0, "chunk_size": 0, "interval": 0.0}),
    "oversized": (
        frozenset(),
        {"size": 20 * 1024 * 1024, "content_type": "text/html; charset=utf-8", "declare_length": True},
    ),
    "redirect": (frozenset({"location"}), {"code": 302}),
    "content_type": (frozenset({"value"}), {}),
    "body": (frozenset({"body"}), {"content_type": None, "status": 200}),
    "disconnect": (frozenset(), {}),
}
KINDS = frozenset(_SPECS)


@dataclass(slots=True)
class Fault:
    """A validated fault with its defaults filled in and a hit counter."""

    kind: str
    params: dict[str, Any]
    times: int | None = None
    hits: int = 0

    @classmethod
    def create(cls, kind: str, params: dict[str, Any]) -> Fault:
        if kind not in _SPECS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        params = dict(params)
        times = params.pop("times", None)
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
            raise ValueError(f"times must be a positive int, got {times!r}")
        required, optional = _SPECS[kind]
        missing = required - params.keys()
        unknown = params.keys() - required - optional.keys()
        if missing:
            raise ValueError(f"fault {kind!r} needs {sorted(missing)}")
        if unknown:
            raise ValueError(f"fault {kind!r} does not take {sorted(unknown)}")
        if kind == "retry_after" and params.get("code", 429) not in (429, 503):
            raise ValueError("retry_after code must be 429 or 503")
        if kind == "body" and isinstance(params["body"], str):
            params["body"] = params["body"].encode("utf-8")
        return cls(kind, {**optional, **params}, times)

    def describe(self) -> dict[str, Any]:
        params = {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else v) for k, v in self.params.items()}
        return {"kind": self.kind, "params": params, "times": self.times, "hits": self.hits}


def normalize_target(path: str) -> str:
    """'/x', '/x?q=1' or 'http://host/x?q=1' -> '/x' / '/x?q=1' (the key faults are stored under)."""
    parts = urlsplit(path)
    target = parts.path or "/"
    if not target.startswith("/"):
        target = "/" + target
    return f"{target}?{parts.query}" if parts.query else target


@dataclass(slots=True)
class FaultTable:
    """Thread-safe path -> fault map. A key with a query matches only that query; a bare path matches any."""

    _faults: dict[str, Fault] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, path: str, fault: Fault) -> None:
        with self._lock:
            self._faults[normalize_target(path)] = fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, target: str) -> Fault | None:
        """The fault to apply to this request (counting the hit), or None once ``times`` is used up."""
        key = normalize_target(target)
        with self._lock:
            fault = self._faults.get(key) or self._faults.get(key.split("?", 1)[0])
            if fault is None or (fault.times is not None and fault.hits >= fault.times):
                return None
            fault.hits += 1
            return fault

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {path: fault.describe() for path, fault in self._faults.items()}
