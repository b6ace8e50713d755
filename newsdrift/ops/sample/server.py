"""Loopback HTTP server for the offline sample corpus, with injectable faults.

    with SampleServer() as server:                      # random free port on 127.0.0.1
        httpx.get(server.url + "/openledger/rss.xml")
        server.set_fault("/byteline/atom.xml", "retry_after", seconds=2, times=1)

Serves ``corpus/`` with a Content-Type (charset included), ETag and
Last-Modified on every file (304 on a matching If-None-Match or, without one,
If-Modified-Since), gzip when the client accepts it, 404 for anything else, and
the literal ``{base_url}`` in any file replaced by the server's own URL.
Every request except fault control is appended to ``requests``.

Faults (see ``faults.py`` for kinds and parameters) are set with ``set_fault``
or, from another process, over HTTP: ``POST /_faults`` with JSON
``{"path": "/x", "kind": "status", "params": {"code": 503}}``; ``DELETE /_faults``
clears them; ``GET /_faults`` lists them.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from newsdrift.ops.sample.faults import Fault, FaultTable, normalize_target

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
PLACEHOLDER = b"{base_url}"
CONTROL_PATH = "/_faults"
HEADERS_FILE = "_headers.json"  # per-path header overrides written by build_corpus.py

_DEFAULT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}
_CHUNK = 64 * 1024
_FILLER = b"<p>" + b"This page is much larger than any article should be. " * 20 + b"</p>\n"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the server saw it."""

    method: str
    path: str  # request target as sent: path plus query string
    headers: dict[str, str]  # header names lower-cased
    time: float  # time.time() when the request was read


@dataclass(frozen=True, slots=True)
class _Resource:
    body: bytes  # after {base_url} substitution
    content_type: str
    etag: str  # strong, quoted; the gzip variant appends "-gzip" inside the quotes
    mtime: int


class _Stopped(Exception):
    """The server is shutting down; abandon the response."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its connection mid-response is normal (timeouts, size caps, Ctrl-C), not a server bug.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    block_on_close = False  # stop() must not wait for a slow or trickling response

    def __init__(self, address: tuple[str, int], sample: SampleServer) -> None:
        self.sample = sample
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class SampleServer:
    """The sample corpus on a loopback port, in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        corpus_dir: str | Path | None = None,
        *,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.corpus_dir = Path(corpus_dir or CORPUS_DIR).resolve()
        self.log_requests = log_requests
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._faults = FaultTable()
        self._header_overrides = self._load_header_overrides()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); only valid while started."""
        if self._httpd is None:
            raise RuntimeError("SampleServer is not started")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._httpd.server_port}"

    def start(self) -> SampleServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("SampleServer is already started")
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sample-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close open connections and release the port. Idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes sleeping slow/trickle responses
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive handlers would otherwise linger until the client hangs up
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ faults and request log

    def set_fault(self, path: str, kind: str, **params: Any) -> None:
        """Break responses for ``path`` (a bare path matches any query). See ``faults.py`` for kinds."""
        self._faults.set(path, Fault.create(kind, params))

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> dict[str, dict[str, Any]]:
        """Current faults with their hit counts."""
        return self._faults.snapshot()

    def requests_for(self, path: str) -> list[RequestRecord]:
        """Recorded requests for ``path``: exact target if it has a query, else any query."""
        key = normalize_target(path)
        with self._lock:
            records = list(self.requests)
        if "?" in key:
            return [r for r in records if r.path == key]
        return [r for r in records if r.path.split("?", 1)[0] == key]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Stopped

    # ------------------------------------------------------------------ files

    def resolve(self, url_path: str) -> Path | None:
        """The corpus file for a URL path, or None (unknown, hidden or outside the corpus)."""
        parts = [p for p in unquote(url_path).split("/") if p]
        if any(p in (".", "..") or p.startswith((".", "_")) or "\\" in p or "\x00" in p for p in parts):
            return None
        target = self.corpus_dir.joinpath(*parts)
        if target.is_dir():
            target = target / "index.html"
        elif url_path.endswith("/"):
            return None
        if not target.is_file() or not target.resolve().is_relative_to(self.corpus_dir):
            return None
        return target

    def _load_header_overrides(self) -> dict[Path, dict[str, str]]:
        path = self.corpus_dir / HEADERS_FILE
        if not path.is_file():
            return {}
        overrides: dict[Path, dict[str, str]] = {}
        for url_path, headers in json.loads(path.read_text(encoding="utf-8")).items():
            file = self.resolve(url_path)
            if file is not None:
                overrides[file] = headers
        return overrides

    def load(self, url_path: str) -> _Resource | None:
        """Body (with ``{base_url}`` substituted), Content-Type and validators for a URL path."""
        file = self.resolve(url_path)
        if file is None:
            return None
        body = file.read_bytes().replace(PLACEHOLDER, self.url.encode("ascii"))
        content_type = self._header_overrides.get(file, {}).get("Content-Type") or _DEFAULT_TYPES.get(
            file.suffix, "application/octet-stream"
        )
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        return _Resource(body, content_type, etag, int(file.stat().st_mtime))


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, so conditional-GET clients can reuse connections
    server_version = "newsdrift-sample/1"
    sys_version = ""

    @property
    def sample(self) -> SampleServer:
        return self.server.sample

    def setup(self) -> None:
        super().setup()
        self.sample._track(self.connection, alive=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.sample._track(self.connection, alive=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.sample.log_requests:
            super().log_message(format, *args)

    # ------------------------------------------------------------------ dispatch

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_POST(self) -> None:
        self._other_method()

    def do_DELETE(self) -> None:
        self._other_method()

    def _other_method(self) -> None:
        if urlsplit(self.path).path == CONTROL_PATH:
            self._control()
            return
        self.close_connection = True  # the unread request body would desync the connection
        self._send_simple(HTTPStatus.METHOD_NOT_ALLOWED, head=False, headers={"Allow": "GET, HEAD"})

    def _dispatch(self, head: bool) -> None:
        path = urlsplit(self.path).path
        if path == CONTROL_PATH:
            self._control()
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.sample._record(RequestRecord(self.command, self.path, headers, time.time()))
        try:
            fault = self.sample._faults.take(self.path)
            if fault is None:
                self._serve(path, head)
            else:
                self._apply_fault(fault, path, head)
        except (_Stopped, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # ------------------------------------------------------------------ normal responses

    def _serve(
        self,
        path: str,
        head: bool,
        content_type: str | None = None,
        delay: float = 0.0,
        chunk_size: int = 0,
        interval: float = 0.0,
    ) -> None:
        resource = self.sample.load(path)
        if resource is None:
            self._send_simple(HTTPStatus.NOT_FOUND, head)
            return
        gzipped = self._accepts_gzip()
        etag = resource.etag[:-1] + '-gzip"' if gzipped else resource.etag
        validators = {
            "ETag": etag,
            "Last-Modified": formatdate(resource.mtime, usegmt=True),
            "Vary": "Accept-Encoding",
        }
        if self._not_modified(resource):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        body = gzip.compress(resource.body, mtime=0) if gzipped else resource.body
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type or resource.content_type)
        self.send_header("Content-Length", str(len(body)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        for name, value in validators.items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        self.sample._sleep(delay)
        if chunk_size > 0:
            for start in range(0, len(body), chunk_size):
                if start:
                    self.sample._sleep(interval)
                self.wfile.write(body[start : start + chunk_size])
        else:
            self.wfile.write(body)

    def _not_modified(self, resource: _Resource) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:  # takes precedence over If-Modified-Since (RFC 9110 13.2.2)
            for tag in (t.strip().removeprefix("W/") for t in if_none_match.split(",")):
                if tag == "*" or tag.replace('-gzip"', '"') == resource.etag:
                    return True
            return False
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError, IndexError):
                return False
            return resource.mtime <= since
        return False

    def _accepts_gzip(self) -> bool:
        for item in self.headers.get("Accept-Encoding", "").split(","):
            name, _, params = item.partition(";")
            if name.strip().lower() in ("gzip", "x-gzip", "*"):
                q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
                try:
                    return float(q) > 0
                except ValueError:
                    return False
        return False

    def _send_simple(
        self, status: int, head: bool, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> None:
        status = HTTPStatus(status)
        headers = dict(headers or {})
        if body is None:
            body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "text/plain; charset=utf-8"))
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    # ------------------------------------------------------------------ faults

    def _apply_fault(self, fault: Fault, path: str, head: bool) -> None:
        p = fault.params
        if fault.kind == "status":
            self._send_simple(p["code"], head, p["body"])
        elif fault.kind == "retry_after":
            seconds = p["seconds"]
            value = formatdate(time.time() + seconds, usegmt=True) if p["http_date"] else str(seconds)
            self._send_simple(p["code"], head, headers={"Retry-After": value})
        elif fault.kind == "slow":
            self.sample._sleep(p["before_headers"])
            self._serve(path, head, delay=p["delay"], chunk_size=p["chunk_size"], interval=p["interval"])
        elif fault.kind == "oversized":
            self._send_oversized(p["size"], p["content_type"], p["declare_length"], head)
        elif fault.kind == "redirect":
            location = p["location"].replace(PLACEHOLDER.decode(), self.sample.url)
            self._send_simple(p["code"], head, b"", headers={"Location": location})
        elif fault.kind == "content_type":
            self._serve(path, head, content_type=p["value"])
        elif fault.kind == "body":
            resource = self.sample.load(path)
            content_type = p["content_type"] or (resource.content_type if resource else "application/octet-stream")
            body = p["body"].replace(PLACEHOLDER, self.sample.url.encode("ascii"))
            self._send_simple(p["status"], head, body, headers={"Content-Type": content_type})
        elif fault.kind == "disconnect":
            self.close_connection = True  # answer nothing; the handler closes the socket

    def _send_oversized(self, size: int, content_type: str, declare_length: bool, head: bool) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        if declare_length:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if head:
            return
        block = (_FILLER * (_CHUNK // len(_FILLER) + 1))[:_CHUNK]
        remaining = size
        while remaining > 0:
            if self.sample._stopping.is_set():
                raise _Stopped
            data = block[: min(remaining, _CHUNK)]
            self.wfile.write(data if declare_length else b"%x\r\n%b\r\n" % (len(data), data))
            remaining -= len(data)
        if not declare_length:
            self.wfile.write(b"0\r\n\r\n")

    # ------------------------------------------------------------------ control endpoint

    def _control(self) -> None:
        sample = self.sample
        if self.command == "GET":
            body = json.dumps(sample.faults(), indent=2).encode()
            self._send_simple(HTTPStatus.OK, False, body, {"Content-Type": "application/json"})
        elif self.command == "DELETE":
            sample.clear_faults()
            self._send_simple(HTTPStatus.OK, False, b"{}", {"Content-Type": "application/json"})
        elif self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            try:
                spec = json.loads(self.rfile.read(length) or b"{}")
                sample.set_fault(spec["path"], spec["kind"], **spec.get("params", {}))
            except (ValueError, KeyError, TypeError) as exc:
                self._send_simple(HTTPStatus.BAD_REQUEST, False, f"bad fault: {exc}\n".encode())
                return
            self._send_simple(HTTPStatus.OK, False, b"{}", {"Content-Type": "application/json"})
        else:
            allow = {"Allow": "GET, POST, DELETE"}
            self._send_simple(HTTPStatus.METHOD_NOT_ALLOWED, self.command == "HEAD", headers=allow)


def serve_forever(host: str = "127.0.0.1", port: int = 8765, corpus_dir: str | Path | None = None) -> None:
    """Serve the corpus in the foreground until interrupted (``newsdrift sample serve``)."""
    server = SampleServer(host, port, corpus_dir).start()
    print(f"newsdrift sample corpus at {server.url}/ (Ctrl-C to stop)", flush=True)
    try:
        while server._thread is not None and server._thread.is_alive():
            server._thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
