"""A loopback HTTP server with fixed routes (path -> status, headers, body) that counts requests."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass
class Route:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class RouteServer:
    """``with RouteServer({"/rss": Route(...)}) as srv: srv.url("/rss")``; unknown paths answer 404."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: Counter[str] = Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path
                outer.hits[path] += 1
                route = outer.routes.get(path) or outer.routes.get(path.split("?", 1)[0]) or Route(404, b"not found")
                body = route.body.encode() if isinstance(route.body, str) else route.body
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> RouteServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def rss(items: list[dict[str, str]], title: str = "Loopback feed") -> str:
    """An RSS 2.0 document; item keys: title, link, description, guid, pubDate, content (content:encoded)."""
    parts = []
    for item in items:
        inner = "".join(
            f"<{k}>{_esc(item[k])}</{k}>" for k in ("title", "link", "description", "guid", "pubDate") if k in item
        )
        if "content" in item:
            inner += f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>"
        parts.append(f"<item>{inner}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{_esc(title)}</title><link>http://127.0.0.1/</link><description>d</description>"
        + "".join(parts)
        + "</channel></rss>"
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
