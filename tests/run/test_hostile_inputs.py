"""Hostile or broken inputs, through real loopback HTTP servers (no mocks).

Compression bombs (stacked and single-layer), pages whose declared charset
lies, scripts written without spaces, and feed entries that are dropped.
The servers follow tests/fetch/test_fetcher.py: a threaded ``http.server``
per test with a route table, on 127.0.0.0/8, reached through the SSRF guard
with an explicit allow-list.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from extractors.article import extract_article
from newsdrift.feeds.catalog import Feed
from newsdrift.feeds.poll import FeedPollResult, poll_feed
from newsdrift.fetch.fetcher import PoliteFetcher
from newsdrift.fetch.http import make_client
from newsdrift.fetch.netguard import NetGuard
from newsdrift.records import Article, Failure, FeedEntry, FetchedPage, ScoredArticle
from newsdrift.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CAP = 5_000_000

# --- loopback server ----------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


def send(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve(body: bytes, ctype: str = "text/html", encoding: str | None = None) -> Route:
    headers = {"Content-Type": ctype}
    if encoding:
        headers["Content-Encoding"] = encoding
    return lambda h: send(h, 200, body, headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        route = self.server.routes.get(urlsplit(self.path).path)  # type: ignore[attr-defined]
        try:
            if route is None:
                send(self, 404, b"not found", {"Content-Type": "text/plain"})
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (size-cap tests)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def server(routes: dict[str, Route]) -> Iterator[_Server]:
    srv = _Server(routes)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def settings(**overrides: Any) -> Any:
    values = {
        "allow_private_networks": False,
        "per_host_delay": 0.0,
        "http_timeout": 10.0,
        "feed_retries": 0,
        "max_page_bytes": CAP,
        "max_feed_bytes": CAP,
        **overrides,
    }
    return load_settings(**values)


def guard_for(cfg: Any) -> NetGuard:
    return NetGuard.from_settings(cfg, allowed_networks=["127.0.0.0/8"])


def fetch_page(url: str, cfg: Any = None) -> FetchedPage | Failure:
    cfg = cfg or settings()

    async def run() -> FetchedPage | Failure:
        async with PoliteFetcher(cfg, guard=guard_for(cfg)) as fetcher:
            return await fetcher.fetch(
                FeedEntry(feed_url="http://feed.invalid/rss", feed_name="T", source="T", link=url)
            )

    return asyncio.run(run())


def poll(url: str, cfg: Any = None) -> FeedPollResult:
    cfg = cfg or settings()
    guard = guard_for(cfg)

    async def run() -> FeedPollResult:
        async with make_client(cfg, guard) as client:
            return await poll_feed(client, Feed(url=url, name="Test feed"), None, cfg, guard=guard)

    return asyncio.run(run())


# --- 1. compression bombs -------------------------------------------------------------


def gzip_zeros(size: int) -> bytes:
    """gzip of ``size`` zero bytes, compressed in 1 MiB steps (no big buffer)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [comp.compress(block) for _ in range(size >> 20)]
    parts.append(comp.flush())
    return b"".join(parts)


def gzip_bytes(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def deflate_bytes(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 15)
    return comp.compress(data) + comp.flush()


BOMB_SIZE = 256 << 20  # inflated size of the innermost layer


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    single = gzip_zeros(BOMB_SIZE)  # ~250 KB on the wire
    return {"single": single, "stacked": gzip_bytes(single)}  # ~600 bytes on the wire


SMALL_PAGE = (
    "<!DOCTYPE html><html lang='en'><head><title>Warm</title></head><body><article>"
    + "<p>Open weights and closed models were debated again this week by many people.</p>" * 20
    + "</article></body></html>"
).encode()
SMALL_FEED = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><link>http://127.0.0.1/</link>"
    b"<item><title>A</title><link>http://127.0.0.1/a</link></item></channel></rss>"
)

# Runs in a fresh interpreter so that ru_maxrss (the peak RSS of the process)
# measures this one request: everything is imported and warmed up first with a
# small gzip response, then the bomb is fetched once. tracemalloc's peak (Python
# allocations during the bomb request, bytes objects included) is the finer figure.
_CLIENT = r"""
import asyncio, json, resource, sys, tracemalloc
from newsdrift.feeds.poll import poll_feed
from newsdrift.fetch.fetcher import PoliteFetcher
from newsdrift.fetch.http import make_client
from newsdrift.fetch.netguard import NetGuard
from newsdrift.settings import load_settings
from newsdrift.records import Failure, FeedEntry
from newsdrift.feeds.catalog import Feed

kind, warm_url, bomb_url, cap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cfg = load_settings(allow_private_networks=False, per_host_delay=0.0, http_timeout=30.0, feed_retries=0,
                    max_page_bytes=cap, max_feed_bytes=cap)
guard = NetGuard.from_settings(cfg, allowed_networks=["127.0.0.0/8"])

async def page(url):
    async with PoliteFetcher(cfg, guard=guard) as fetcher:
        got = await fetcher.fetch(FeedEntry(feed_url="http://feed.invalid/rss", feed_name="T", source="T", link=url))
    return got.reason if isinstance(got, Failure) else "ok"

async def feed(url):
    async with make_client(cfg, guard) as client:
        got = await poll_feed(client, Feed(url=url, name="T"), None, cfg, guard=guard)
    return got.error or "ok"

run = page if kind == "page" else feed
warm = asyncio.run(run(warm_url))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
reason = asyncio.run(run(bomb_url))
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"warm": warm, "reason": reason, "growth_mb": (after - before) / 1024,
                  "traced_peak_mb": traced_peak / 2**20}))
"""


def measure(kind: str, warm_url: str, bomb_url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _CLIENT, kind, warm_url, bomb_url, str(CAP)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["page", "feed"])
@pytest.mark.parametrize("layers", ["stacked", "single"])
def test_gzip_bomb_is_stopped_at_the_cap_without_inflating(bombs: dict[str, bytes], kind: str, layers: str) -> None:
    ctype = "text/html" if kind == "page" else "application/rss+xml"
    warm = SMALL_PAGE if kind == "page" else SMALL_FEED
    encoding = "gzip, gzip" if layers == "stacked" else "gzip"
    routes = {"/warm": serve(gzip_bytes(warm), ctype, "gzip"), "/bomb": serve(bombs[layers], ctype, encoding)}
    with server(routes) as srv:
        got = measure(kind, f"{srv.url}/warm", f"{srv.url}/bomb")
    print(f"{layers} {kind}: peak RSS growth {got['growth_mb']:.1f} MB, traced peak {got['traced_peak_mb']:.1f} MB")
    assert got["warm"] == "ok"
    assert got["reason"].startswith(f"body exceeds {CAP} bytes"), got
    assert encoding in got["reason"], got
    # Uncapped, the decoder takes +125 MB (single layer) and the whole 256 MB or more (stacked).
    assert got["growth_mb"] < 40, got
    assert got["traced_peak_mb"] < 3 * CAP / 2**20, got  # the capped body, joined once


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip_bytes),
        ("x-gzip", gzip_bytes),
        ("deflate", deflate_bytes),
        ("deflate, gzip", lambda b: gzip_bytes(deflate_bytes(b))),
        ("gzip, identity, gzip", lambda b: gzip_bytes(gzip_bytes(b))),
        ("identity", lambda b: b),
    ],
)
def test_supported_encodings_are_decoded(encoding: str, encode: Callable[[bytes], bytes]) -> None:
    with server({"/a": serve(encode(SMALL_PAGE), "text/html; charset=utf-8", encoding)}) as srv:
        got = fetch_page(f"{srv.url}/a")
    assert isinstance(got, FetchedPage), got
    assert "Open weights and closed models" in got.html


def test_raw_deflate_is_accepted_and_corrupt_data_is_a_clear_failure() -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw_deflate = comp.compress(SMALL_PAGE) + comp.flush()
    routes = {
        "/raw": serve(raw_deflate, "text/html", "deflate"),
        "/corrupt": serve(b"\x1f\x8b\x08\x00garbage-not-gzip" * 10, "text/html", "gzip"),
    }
    with server(routes) as srv:
        raw = fetch_page(f"{srv.url}/raw")
        corrupt = fetch_page(f"{srv.url}/corrupt")
    assert isinstance(raw, FetchedPage) and "Open weights" in raw.html
    assert isinstance(corrupt, Failure) and corrupt.reason.startswith("invalid content encoding"), corrupt
    assert not corrupt.transient


def test_unknown_content_encoding_is_refused() -> None:
    with server(
        {"/a": serve(b"\x00" * 100, "text/html", "br"), "/f": serve(b"x", "application/rss+xml", "zstd")}
    ) as srv:
        page = fetch_page(f"{srv.url}/a")
        feed = poll(f"{srv.url}/f")
    assert isinstance(page, Failure) and page.reason == "unsupported content encoding 'br'", page
    assert feed.outcome == "failed" and feed.error == "unsupported content encoding 'zstd'"


def test_a_body_just_under_the_cap_still_decodes_in_full() -> None:
    body = b"<html><body><p>" + b"a" * (CAP - 40) + b"</p></body></html>"
    assert len(body) <= CAP
    with server({"/a": serve(gzip_bytes(body), "text/html", "gzip")}) as srv:
        got = fetch_page(f"{srv.url}/a")
    assert isinstance(got, FetchedPage), got
    assert len(got.html) == len(body)


# --- 4. dropped feed entries ----------------------------------------------------------


def rss(items: list[str]) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Drops</title>"
        "<link>http://127.0.0.1/</link><description>d</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def item(title: str, link: str | None = None, guid: str | None = None) -> str:
    parts = [f"<title>{title}</title>"]
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if guid is not None:
        parts.append(f"<guid isPermaLink='false'>{guid}</guid>")
    return "<item>" + "".join(parts) + "</item>"


def test_every_dropped_entry_is_reported_with_its_reason() -> None:
    good = [item(f"Story {i}", f"https://news.example.com/story-{i}", f"id-{i}") for i in range(24)]
    bad = [
        item("No link at all", guid="id-nolink"),
        item("Script link", "javascript:alert(1)", "id-js"),
        item("Local file", "file:///etc/passwd"),  # no guid: reported by position
        item("Mail link", "mailto:desk@news.example.com", "id-mail"),
        item("Copy of story 3", "https://news.example.com/story-3", "id-dup"),
    ]
    items = good[:10] + bad[:2] + good[10:20] + bad[2:] + good[20:]
    with server({"/rss": serve(rss(items), "application/rss+xml")}) as srv:
        result = poll(f"{srv.url}/rss")
    feed_url = f"{srv.url}/rss"
    assert result.outcome == "ok"
    assert len(result.entries) == 24
    assert [(f.where, f.reason) for f in result.dropped] == [
        (f"entry:{feed_url}#id-nolink", "no link"),
        (f"entry:{feed_url}#id-js", "unsupported link scheme 'javascript'"),
        (f"entry:{feed_url}#23", "unsupported link scheme 'file'"),
        (f"entry:{feed_url}#id-mail", "unsupported link scheme 'mailto'"),
        (f"entry:{feed_url}#id-dup", "duplicate link https://news.example.com/story-3"),
    ]
    assert all(isinstance(f, Failure) and not f.transient for f in result.dropped)
    assert len(result.entries) + len(result.dropped) == 29
    assert "4 entries without an http(s) link skipped" in result.warnings  # the existing warning stays


def test_a_clean_feed_drops_nothing() -> None:
    items = [item(f"Story {i}", f"https://news.example.com/s{i}") for i in range(3)]
    with server({"/rss": serve(rss(items), "application/rss+xml")}) as srv:
        result = poll(f"{srv.url}/rss")
    assert result.outcome == "ok" and len(result.entries) == 3 and result.dropped == []


# --- 2. charsets that lie ---------------------------------------------------------------

FRENCH = (
    "Le débat sur l’intelligence artificielle ouverte a repris cet été à Paris, où les chercheurs ont comparé "
    "les modèles publiés avec leurs poids et les systèmes fermés des grandes entreprises. « Nous voulons "
    "comprendre ce que coûte réellement l’entraînement », a déclaré une ingénieure de l’école, déjà connue "
    "pour ses travaux sur la sécurité. Les élus réclament des règles claires, les start-up craignent une "
    "réglementation trop lourde et les universités espèrent garder l’accès aux modèles ; le budget annoncé "
    "atteint 250 millions d’euros, soit 250 M€, pour des centres de calcul publics et des bourses d’étude."
)
FRENCH_WORDS = ("débat", "l’intelligence", "été", "modèles", "déjà", "sécurité", "réglementation", "M€", "« Nous")

RUSSIAN = (
    "Открытые модели искусственного интеллекта снова оказались в центре внимания. Компания выпустила новую "
    "версию своей модели, и эксперты спорят о том, насколько безопасно публиковать веса крупных систем. "
    "Сторонники открытости говорят, что доступ к весам помогает исследователям находить ошибки и уязвимости. "
    "Критики отвечают, что злоумышленники тоже получают мощный инструмент. Правительства нескольких стран "
    "обсуждают новые правила, а крупные компании пытаются убедить регуляторов в своей правоте. Стоимость "
    "обучения растёт, поэтому небольшие лаборатории всё чаще используют открытые веса как основу для продуктов."
)
RUSSIAN_WORDS = ("Открытые", "искусственного", "интеллекта", "эксперты", "уязвимости", "растёт", "всё")

CHINESE = (
    "开源人工智能模型的发布再次引发了广泛讨论。支持者认为，公开模型权重可以让研究人员发现错误和安全漏洞，"
    "也能让小型实验室以较低的成本开发自己的产品。批评者则担心，恶意使用者同样可以获得强大的工具。"
    "多个国家的政府正在讨论新的监管规则，大型科技公司也在努力说服监管机构接受自己的观点。"
    "训练大型模型的成本不断上升，因此越来越多的大学和初创企业选择在开放权重的基础上进行改进。"
)
CHINESE_WORDS = ("开源人工智能模型", "研究人员", "监管规则", "初创企业")

MOJIBAKE = re.compile("Ã.|â€|Â|Ð.|Ñ.")


def html_page(paragraph: str, *, paragraphs: int = 4, head: str = "", lang: str | None = None) -> str:
    lang_attr = f" lang='{lang}'" if lang else ""
    body = "".join(f"<p>{paragraph} ({i + 1})</p>" for i in range(paragraphs))
    return (
        f"<!DOCTYPE html><html{lang_attr}><head>{head}<title>Article</title></head>"
        f"<body><article><h1>Article</h1>{body}</article></body></html>"
    )


def fetch_and_extract(body: bytes, ctype: str) -> tuple[FetchedPage, Article]:
    with server({"/a": serve(body, ctype)}) as srv:
        page = fetch_page(f"{srv.url}/a")
    assert isinstance(page, FetchedPage), page
    article = extract_article(page, settings())
    assert isinstance(article, Article), article
    return page, article


def assert_clean(article: Article, words: tuple[str, ...]) -> None:
    assert "\ufffd" not in article.text, article.text.count("\ufffd")
    assert not MOJIBAKE.search(article.text), MOJIBAKE.findall(article.text)[:10]
    for word in words:
        assert word in article.text, word


def test_windows_1252_page_labelled_utf8_is_decoded_as_windows_1252() -> None:
    body = html_page(FRENCH, lang="fr").encode("cp1252")
    page, article = fetch_and_extract(body, "text/html; charset=utf-8")
    assert_clean(article, FRENCH_WORDS)
    assert page.decoding == article.decoding == "declared utf-8 but the bytes are not; decoded as windows-1252"


def test_utf8_page_with_a_latin1_meta_charset_is_decoded_as_utf8() -> None:
    body = html_page(FRENCH, head="<meta charset='iso-8859-1'>", lang="fr").encode("utf-8")
    page, article = fetch_and_extract(body, "text/html")
    assert_clean(article, FRENCH_WORDS)
    assert page.decoding == article.decoding == "declared windows-1252 but the bytes are UTF-8; decoded as utf-8"


def test_cp1251_russian_page_labelled_utf8_is_decoded_as_cp1251() -> None:
    body = html_page(RUSSIAN).encode("cp1251")  # no lang attribute either
    assert body.decode("utf-8", errors="replace").count("\ufffd") > 1000  # what trusting the label would index
    page, article = fetch_and_extract(body, "text/html; charset=utf-8")
    assert_clean(article, RUSSIAN_WORDS)
    assert article.language == "ru"
    assert page.decoding == "declared utf-8 but the bytes are not; decoded as windows-1251"


def test_correctly_labelled_pages_carry_no_decoding_note() -> None:
    page, article = fetch_and_extract(html_page(FRENCH, lang="fr").encode("cp1252"), "text/html; charset=windows-1252")
    assert_clean(article, FRENCH_WORDS)
    assert page.decoding is None and article.decoding is None
    assert "decoding" not in ScoredArticle(article).to_document()


def test_a_page_that_cannot_be_decoded_cleanly_says_so() -> None:
    # UTF-8 with a few stray legacy bytes: still UTF-8, but not losslessly.
    good = html_page(FRENCH, lang="fr").encode("utf-8")
    body = good.replace(b"(2)", b"(2) \x96 \x92").replace(b"(3)", b"(3) \xe9t\xe9")
    page, article = fetch_and_extract(body, "text/html; charset=utf-8")
    for word in FRENCH_WORDS:
        assert word in article.text
    assert not MOJIBAKE.search(article.text)
    assert page.decoding == article.decoding == "lossy: 4 invalid utf-8 sequences replaced with U+FFFD"
    assert ScoredArticle(article).to_document()["decoding"] == article.decoding


# --- 3. scripts without spaces, languages beyond Latin -------------------------------------


def test_chinese_article_is_long_enough_and_gets_a_language() -> None:
    text = (CHINESE * 4)[:599] + "。"  # 600 characters, a handful of "words" for str.split()
    assert len(text) == 600 and len(text.split()) < 10
    body = html_page(text, paragraphs=1).encode("utf-8")
    _, article = fetch_and_extract(body, "text/html; charset=utf-8")
    assert_clean(article, CHINESE_WORDS)
    assert article.language == "zh"
    assert article.word_count >= 500  # one per Han character


def test_chinese_with_a_lang_attribute_and_mixed_latin_words() -> None:
    text = "Meta 发布 Llama 3 之后，" + CHINESE
    _, article = fetch_and_extract(html_page(text, paragraphs=2, lang="zh-CN").encode("utf-8"), "text/html")
    assert article.language == "zh"
    assert article.word_count > 2 * 150


def test_russian_article_gets_a_language_without_a_lang_attribute() -> None:
    _, article = fetch_and_extract(html_page(RUSSIAN, paragraphs=2).encode("utf-8"), "text/html; charset=utf-8")
    assert article.language == "ru"
    assert_clean(article, RUSSIAN_WORDS)


def test_short_cjk_text_is_still_too_short() -> None:
    body = html_page("开源模型引发讨论。", paragraphs=2).encode("utf-8")
    with server({"/a": serve(body, "text/html; charset=utf-8")}) as srv:
        page = fetch_page(f"{srv.url}/a")
    assert isinstance(page, FetchedPage)
    result = extract_article(page, settings())
    assert isinstance(result, Failure) and result.reason.startswith("body too short: "), result


def test_the_decoding_note_is_indexed_under_the_strict_article_mapping(opensearch_client, index_names) -> None:
    from newsdrift.store.templates import apply_templates

    apply_templates(opensearch_client, index_names)
    body = html_page(RUSSIAN).encode("cp1251")
    _, article = fetch_and_extract(body, "text/html; charset=utf-8")
    doc = ScoredArticle(article).to_document()
    opensearch_client.index(index=index_names.articles, id=article.id, body=doc, refresh=True)
    hits = opensearch_client.search(
        index=index_names.articles, body={"query": {"term": {"decoding": article.decoding}}, "_source": ["language"]}
    )["hits"]["hits"]
    assert [(h["_id"], h["_source"]["language"]) for h in hits] == [(article.id, "ru")]
