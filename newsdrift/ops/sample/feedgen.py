"""Feed documents for the sample corpus: RSS 2.0, Atom 1.0, RSS 1.0 (RDF) and two broken ones.

Links use the literal ``{base_url}`` placeholder that the server substitutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

BASE = "{base_url}"

# format -> Content-Type the server sends for it
CONTENT_TYPES = {
    "rss2.0": "application/rss+xml; charset=utf-8",
    "atom1.0": "application/atom+xml; charset=utf-8",
    "rss1.0": "application/rdf+xml; charset=utf-8",
    # a legacy CMS: not well-formed (raw "&", HTML entities) but feedparser recovers the items
    "rss2.0-broken": "text/xml; charset=utf-8",
    # a CDN error page served with 200 and a feed content type: nothing to recover
    "html-error": "application/rss+xml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed URL of the corpus."""

    path: str
    outlet: str
    format: str
    title: str
    description: str
    home_path: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item. ``link`` is a server path, possibly with a query; ``page`` the file it resolves to."""

    title: str
    link: str
    guid: str
    published: datetime | None  # aware, in the outlet's local zone; None = the item carries no date
    author: str
    summary: str
    category: str
    page: str | None  # None for a dead link


def _x(text: str) -> str:
    return escape(text)


def rss2(spec: FeedSpec, entries: Sequence[Entry], updated: datetime, broken: bool = False) -> str:
    """RSS 2.0. With ``broken`` the CMS forgets to escape "&" and emits HTML entities (not well-formed)."""

    def text(value: str) -> str:
        return value.replace("<", "&lt;") if broken else _x(value)

    items = []
    for e in entries:
        description = text(e.summary) + (" &nbsp;more&nbsp;&raquo;" if broken else "")
        parts = [
            f"    <title>{text(e.title)}</title>",
            f"    <link>{_x(BASE + e.link)}</link>",
            f'    <guid isPermaLink="false">{_x(e.guid)}</guid>',
        ]
        if e.published is not None:
            parts.append(f"    <pubDate>{format_datetime(e.published)}</pubDate>")
        parts += [
            f"    <dc:creator>{text(e.author)}</dc:creator>",
            f"    <category>{text(e.category)}</category>",
            f"    <description>{description}</description>",
        ]
        items.append("  <item>\n" + "\n".join(parts) + "\n  </item>")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>{_x(spec.title)}</title>
  <link>{BASE}{spec.home_path}</link>
  <description>{_x(spec.description)}</description>
  <language>en</language>
  <lastBuildDate>{format_datetime(updated)}</lastBuildDate>
  <atom:link href="{BASE}{spec.path}" rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
</channel>
</rss>
"""


def atom(spec: FeedSpec, entries: Sequence[Entry], updated: datetime) -> str:
    """Atom 1.0; an entry without a date simply omits <published>/<updated>."""
    items = []
    for e in entries:
        parts = [
            f"    <title>{_x(e.title)}</title>",
            f'    <link rel="alternate" type="text/html" href={quoteattr(BASE + e.link)}/>',
            f"    <id>{_x(e.guid)}</id>",
        ]
        if e.published is not None:
            stamp = e.published.isoformat()
            parts += [f"    <published>{stamp}</published>", f"    <updated>{stamp}</updated>"]
        parts += [
            f"    <author><name>{_x(e.author)}</name></author>",
            f"    <category term={quoteattr(e.category)}/>",
            f'    <summary type="text">{_x(e.summary)}</summary>',
        ]
        items.append("  <entry>\n" + "\n".join(parts) + "\n  </entry>")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>{_x(spec.title)}</title>
  <subtitle>{_x(spec.description)}</subtitle>
  <link rel="self" type="application/atom+xml" href="{BASE}{spec.path}"/>
  <link rel="alternate" type="text/html" href="{BASE}{spec.home_path}"/>
  <id>tag:{spec.outlet}.example,2026:{spec.path}</id>
  <updated>{updated.isoformat()}</updated>
{chr(10).join(items)}
</feed>
"""


def rdf(spec: FeedSpec, entries: Sequence[Entry], updated: datetime) -> str:
    """RSS 1.0 (RDF Site Summary) with Dublin Core dates."""
    seq = "\n".join(f"        <rdf:li rdf:resource={quoteattr(BASE + e.link)}/>" for e in entries)
    items = []
    for e in entries:
        parts = [
            f"    <title>{_x(e.title)}</title>",
            f"    <link>{_x(BASE + e.link)}</link>",
            f"    <description>{_x(e.summary)}</description>",
        ]
        if e.published is not None:
            parts.append(f"    <dc:date>{e.published.isoformat()}</dc:date>")
        parts += [f"    <dc:creator>{_x(e.author)}</dc:creator>", f"    <dc:subject>{_x(e.category)}</dc:subject>"]
        items.append(f"  <item rdf:about={quoteattr(BASE + e.link)}>\n" + "\n".join(parts) + "\n  </item>")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="{BASE}{spec.path}">
    <title>{_x(spec.title)}</title>
    <link>{BASE}{spec.home_path}</link>
    <description>{_x(spec.description)}</description>
    <dc:date>{updated.isoformat()}</dc:date>
    <items>
      <rdf:Seq>
{seq}
      </rdf:Seq>
    </items>
  </channel>
{chr(10).join(items)}
</rdf:RDF>
"""


def html_error() -> str:
    """What a misconfigured CDN returns with status 200 in place of the feed."""
    return """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>503 Backend fetch failed</title>
</head>
<body>
<h1>Error 503 Backend fetch failed</h1>
<p>Backend fetch failed</p>
<h3>Guru Meditation:</h3>
<p>XID: 48213377</p>
<hr>
<p>Varnish cache server</p>
</body>
</html>
"""


def render_feed(spec: FeedSpec, entries: Sequence[Entry], updated: datetime) -> str:
    if spec.format == "rss2.0":
        return rss2(spec, entries, updated)
    if spec.format == "rss2.0-broken":
        return rss2(spec, entries, updated, broken=True)
    if spec.format == "atom1.0":
        return atom(spec, entries, updated)
    if spec.format == "rss1.0":
        return rdf(spec, entries, updated)
    if spec.format == "html-error":
        return html_error()
    raise ValueError(f"unknown feed format {spec.format!r}")
