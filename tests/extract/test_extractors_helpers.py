"""Small pure helpers: charset decoding, URL normalisation, robots policy, Retry-After, page metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from extractors.layout import drop_pullquotes, unwrap_layout_tables
from extractors.pagemeta import page_meta, parse_timestamp
from extractors.standfirst import find_standfirst, with_standfirst
from extractors.urls import normalise_url, same_site
from newsdrift.fetch.charset import decode_html, normalise_label
from newsdrift.fetch.http import parse_retry_after
from newsdrift.fetch.robots import origin_of, policy_from_response, robots_url

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CORPUS = ROOT / "newsdrift" / "ops" / "sample" / "corpus"
EXTRACTION_PAGES = ROOT / "tests" / "data" / "extraction"

LEGACY = "Café £5 – “quoted” ‘text’ … €"


# --- charset -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "encoding"),
    [
        ("text/html; charset=windows-1252", LEGACY.encode("cp1252"), "cp1252"),
        ("text/html; charset=ISO-8859-1", LEGACY.encode("cp1252"), "cp1252"),  # WHATWG: latin-1 means cp1252
        ('text/html; charset="utf-8"', LEGACY.encode("utf-8"), "utf_8"),
        ("text/html", b'<meta charset="windows-1252">' + LEGACY.encode("cp1252"), "cp1252"),
        (
            "text/html",
            b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">' + LEGACY.encode("cp1252"),
            "cp1252",
        ),
        ("text/html", LEGACY.encode("utf-8"), "utf_8"),  # undeclared, valid UTF-8
        ("text/html", LEGACY.encode("cp1252"), "cp1252"),  # undeclared legacy bytes
        ("text/html; charset=bogus-charset", LEGACY.encode("utf-8"), "utf_8"),
        ("text/html; charset=windows-1252", b"\xef\xbb\xbf" + LEGACY.encode("utf-8"), "utf_8"),  # BOM wins
    ],
)
def test_decode_html(content_type: str, body: bytes, encoding: str) -> None:
    text, used = decode_html(body, content_type)
    assert LEGACY in text
    assert used == encoding


def test_meta_utf16_means_utf8_and_labels() -> None:
    text, used = decode_html(b'<meta charset="utf-16">' + "é".encode(), "text/html")
    assert used == "utf_8" and text.endswith("é")
    assert normalise_label("latin1") == "cp1252" and normalise_label("gb2312") == "gbk"
    assert normalise_label("no-such-charset") is None


# --- URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://WWW.Example.COM:443/a/b?utm_source=x&b=2&a=1&fbclid=zz#frag", "https://www.example.com/a/b?a=1&b=2"),
        ("http://example.com:80", "http://example.com/"),
        ("https://example.com/story?id=123&utm_medium=rss&gclid=1&mc_cid=2", "https://example.com/story?id=123"),
        ("https://example.com/p?page=2&ref=hn&cmpid=9", "https://example.com/p?page=2"),
        ("https://example.com/p?q=&x=1", "https://example.com/p?x=1"),  # blank values dropped
    ],
)
def test_normalise_url(url: str, normal: str) -> None:
    assert normalise_url(url) == normal


def test_same_site() -> None:
    assert same_site("https://www.example.co.uk/a", "https://amp.example.co.uk/b")
    assert not same_site("https://a.github.io/x", "https://b.github.io/x")  # public suffix list
    assert not same_site("https://example.com/a", "https://example.org/a")
    assert same_site("http://127.0.0.1:8000/a", "http://127.0.0.1:9000/b")


# --- robots policy -------------------------------------------------------------------


def test_robots_policy_from_statuses() -> None:
    ua = "newsdrift/0.1 (+https://example.invalid)"
    rules = policy_from_response("https://x.example", 200, b"User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n")
    assert rules.refusal("https://x.example/private/a", ua) == "robots.txt disallows"
    assert rules.refusal("https://x.example/news/a", ua) is None
    assert rules.crawl_delay(ua) == 3.0
    assert policy_from_response("https://x.example", 404, b"").allows("https://x.example/any", ua)
    assert policy_from_response("https://x.example", 403, b"").allows("https://x.example/any", ua)
    for status in (500, 503, 429):
        down = policy_from_response("https://x.example", status, b"")
        assert down.refusal("https://x.example/a", ua) == (
            f"robots.txt unreachable (HTTP {status}); host disallowed for this run"
        )


def test_robots_locations() -> None:
    assert origin_of("HTTPS://User:pw@News.Example.com:8443/a?b") == "https://news.example.com:8443"
    assert robots_url("http://x.example/a/b.html") == "http://x.example/robots.txt"


# --- Retry-After ---------------------------------------------------------------------


def test_parse_retry_after() -> None:
    now = datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("Tue, 01 Sep 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after("Tue, 01 Sep 2026 11:00:00 GMT", now) == 0  # in the past
    assert parse_retry_after("-3", now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# --- page metadata and layout ----------------------------------------------------------


def test_parse_timestamp() -> None:
    assert parse_timestamp("2026-09-01T10:15:00+02:00") == datetime(2026, 9, 1, 8, 15, tzinfo=UTC)
    assert parse_timestamp("2026-09-01T10:15:00Z") == datetime(2026, 9, 1, 10, 15, tzinfo=UTC)
    assert parse_timestamp("2026-09-01") == datetime(2026, 9, 1, tzinfo=UTC)
    assert parse_timestamp("Tue, 01 Sep 2026 10:15:00 +0000") == datetime(2026, 9, 1, 10, 15, tzinfo=UTC)
    assert parse_timestamp("1970-01-01") is None  # noise
    assert parse_timestamp("2999-01-01") is None
    assert parse_timestamp("yesterday") is None


def test_page_meta_sources() -> None:
    tree = lxml_html.fromstring(
        """<html lang="de-AT"><head>
        <link rel="alternate canonical" href="/c">
        <meta property="og:site_name" content="Example">
        <script type="application/ld+json">{"@graph": [{"@type": "WebPage"},
            {"@type": "NewsArticle", "datePublished": "2026-05-04T03:02:01-05:00"}]}</script>
        <script type="application/ld+json">{not json</script>
        </head><body><p>x</p></body></html>"""
    )
    meta = page_meta(tree)
    assert meta.canonical == "/c" and meta.language == "de" and meta.site_name == "Example"
    assert meta.published_at == datetime(2026, 5, 4, 8, 2, 1, tzinfo=UTC) and meta.published_has_time


def test_layout_tables_are_unwrapped_but_data_tables_kept() -> None:
    tree = lxml_html.fromstring(
        "<html><body><table width='900'><tr><td>menu</td><td><h1>Title</h1><p>a</p>"
        "<table class='scores'><tr><th>Model</th><th>Score</th></tr><tr><td>X</td><td>1</td></tr></table>"
        "<table class='comments'><tr><td>nice</td></tr></table>"
        "</td></tr></table><blockquote class='pullquote'>quote</blockquote></body></html>"
    )
    assert unwrap_layout_tables(tree) == 2  # the layout table and the comment table
    assert [t.get("class") for t in tree.iter("table")] == ["scores"]
    assert drop_pullquotes(tree) == 1 and "quote" not in tree.text_content()


def test_a_heading_in_a_header_cell_does_not_make_a_data_table_layout() -> None:
    # A recipe's ingredient table: "<th><h3>For the dough:</h3></th>" titles the rows below it.
    tree = lxml_html.fromstring(
        "<html><body><table class='ingredients'><thead><tr><th colspan='2'><h3>For the dough:</h3></th></tr>"
        "</thead><tbody><tr><td><span>125 g</span></td><td><span>flour</span></td></tr></tbody></table>"
        "<table><tr><td><h2>Story</h2></td><td>menu</td></tr></table></body></html>"
    )
    assert unwrap_layout_tables(tree) == 1  # only the second: a heading in a body cell is page layout
    assert [t.get("class") for t in tree.iter("table")] == ["ingredients"]


_LEAD = "Councils will publish every contract over 5,000 euros from January, the ministry said on Monday."


@pytest.mark.parametrize(
    ("between", "after", "expected"),
    [
        # the deck right under the headline, outside the article block
        (f"<p class='article-teaser'>{_LEAD}</p>", "", _LEAD),
        (f"<div class='byline'>By Ana Ruiz</div><h2 class='c-dek'>{_LEAD}</h2>", "", _LEAD),
        # a byline block named "subhead", then the real lead
        (
            f"<div class='entry-subhead'><span class='byline'>By Ana</span> <time>12 May</time></div>"
            f"<div class='lead'><p>{_LEAD}</p></div>",
            "",
            _LEAD,
        ),
        # the site's tagline, a picture caption with its credit, a lead that is mostly links: none of them
        (f"<h2 class='site-description'>{_LEAD}</h2>", "", None),
        (f"<div class='article__intro'>{_LEAD} © Photo agency</div>", "", None),
        (f"<p class='intro'><a href='/a'>{_LEAD}</a></p>", "", None),
        # related-story cards after the body: a linked headline and its summary
        ("", f"<div class='teaser'><h3><a href='/t'>Other story</a></h3><p>{_LEAD}</p></div>", None),
    ],
)
def test_standfirst_is_the_lead_under_the_headline(between: str, after: str, expected: str | None) -> None:
    body = "".join(
        f"<p>Paragraph {i} of the story, long enough to be body text of the article itself.</p>" for i in range(4)
    )
    tree = lxml_html.fromstring(
        f"<html><body><header><h1>Contracts go public</h1>{between}</header>"
        f"<article>{body}</article>{after}</body></html>"
    )
    assert find_standfirst(tree) == expected


def test_standfirst_is_added_once() -> None:
    assert with_standfirst("Body.", "Lead.") == "Lead.\nBody."
    assert with_standfirst("Lead.\nBody.", "Lead.") == "Lead.\nBody."
    assert with_standfirst("Body.", None) == "Body."


_BYLINE_CASES = {
    "rule order": "<p class='story-writer'>Desk</p><span class='author-name'>Ana Ruiz</span>",
    "comments are pruned": (
        "<div class='comments'><span class='author'>Troll</span></div><p class='byline'>By Li Wei</p>"
    ),
    "a date inside the byline": "<div class='byline'>By Sam Okoro <time>May 5</time></div>",
    "sidebar then body": (
        "<aside><div class='sidebar'><a rel='author'>Other</a></div></aside><a rel='author'>Kim Park</a>"
    ),
    "itemprop": "<span itemprop='author'><span itemprop='name'>Jo Lee</span></span>",
    "author element": "<author>Max Mustermann</author>",
    "too long": "<div class='byline'>" + "word " * 40 + "</div><div id='Author'>Eve Adams</div>",
    "nothing": "<p class='lead'>No byline here</p>",
}


@pytest.mark.parametrize("body", _BYLINE_CASES.values(), ids=_BYLINE_CASES.keys())
def test_byline_search_answers_as_trafilatura_does(body: str) -> None:
    from trafilatura.metadata import extract_author as trafilatura_author
    from trafilatura.utils import load_html

    from extractors.byline import extract_author

    html = f"<html><head><title>t</title></head><body>{body}<p>{'text ' * 50}</p></body></html>"
    assert extract_author(load_html(html)) == trafilatura_author(load_html(html))


def test_byline_search_agrees_with_trafilatura_on_every_page_of_the_corpora() -> None:
    from trafilatura.metadata import extract_author as trafilatura_author
    from trafilatura.utils import load_html

    from extractors.byline import extract_author

    pages = sorted([*SAMPLE_CORPUS.rglob("*.html"), *EXTRACTION_PAGES.glob("*.html")])
    assert len(pages) > 20
    found = 0
    for page in pages:
        html = page.read_text(encoding="utf-8", errors="replace")
        expected = trafilatura_author(load_html(html))
        assert extract_author(load_html(html)) == expected, page.name
        found += expected is not None
    assert found > 5  # the comparison saw real bylines, not only pages without one


def test_copyright_lines_closing_the_text_are_dropped_and_body_lines_are_not() -> None:
    from extractors.article import drop_trailing_rights

    body = "Meta released the weights.\nCopyright law was discussed in the hearing."
    assert drop_trailing_rights(body + "\n© 2026 Example Media. All rights reserved.\nAlle Rechte vorbehalten") == body
    assert drop_trailing_rights(body) == body  # "Copyright" inside a sentence is body
    assert drop_trailing_rights("© 2026 Example Media") == "© 2026 Example Media"  # never the whole text
