"""A recording JSON webhook receiver on loopback (stdlib only), for tests, the benchmark and demos.

with WebhookReceiver() as hook:
    url = hook.apprise_url("ops")      # json://127.0.0.1:PORT/ops
    ...
    hook.wait_for(1, timeout=5)
    hook.requests[0].json["title"]
    hook.distinct_keys()               # what a receiver deduplicating by Idempotency-Key keeps
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time()
    monotonic: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def idempotency_key(self) -> str | None:
        """The ``Idempotency-Key`` header (HTTP header names are case-insensitive)."""
        return next((v for k, v in self.headers.items() if k.lower() == "idempotency-key"), None)


class WebhookReceiver:
    """Records every POST; answers ``status`` (200 by default, settable to simulate a broken endpoint).

    ``on_request`` (optional) is called with each recorded request before the answer is sent, e.g. to
    kill the sender while it still waits for the response.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[ReceivedRequest] = []
        self.status = 200
        self.on_request: Callable[[ReceivedRequest], None] | None = None
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver.status
                if status < 300:
                    request = ReceivedRequest(self.path, dict(self.headers.items()), body, time.time())
                    with receiver._lock:
                        receiver.requests.append(request)
                        receiver._lock.notify_all()
                    if receiver.on_request is not None:
                        receiver.on_request(request)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def apprise_url(self, path: str = "hook") -> str:
        """The ``json://`` apprise URL posting to ``/<path>`` on this receiver."""
        return f"json://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def distinct_keys(self) -> set[str | None]:
        """Idempotency keys of the recorded requests: what a deduplicating receiver would keep."""
        with self._lock:
            return {r.idempotency_key for r in self.requests}

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Block until at least ``count`` requests were recorded (False on timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
