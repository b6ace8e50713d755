"""Metadata trafilatura does not give us precisely: canonical link, language, full publication timestamp.

Trafilatura's own date is day-precision; news monitoring wants the hour, so the
publication time is read from the page's metadata here (Open Graph/article
meta tags, JSON-LD ``datePublished``, ``<time itemprop=datePublished>``).
Works on the lxml tree already parsed for extraction.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml.html import HtmlElement

# Meta tags naming the publication time, most specific first.
_DATE_META_NAMES = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dcterms.issued",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
)
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
_LANG_RE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")


@dataclass(slots=True)
class PageMeta:
    canonical: str | None = None  # href of <link rel=canonical>, as written
    language: str | None = None  # primary subtag, lower-case ("en")
    published_at: datetime | None = None  # aware UTC
    published_has_time: bool = False  # False: the page gave a calendar date only
    site_name: str | None = None  # og:site_name


def parse_timestamp(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """An aware UTC datetime from ISO 8601 or RFC 2822 text; naive values are taken as UTC.

    Dates before 1995 or more than a day in the future are treated as noise.
    """
    if not value:
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    latest = (now or datetime.now(UTC)) + timedelta(days=1)
    return parsed if _EARLIEST <= parsed <= latest else None


def _meta_values(tree: HtmlElement) -> dict[str, str]:
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv") or ""
        key = key.strip().lower()
        content = meta.get("content")
        if key and content and key not in values:
            values[key] = content.strip()
    return values


def _json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue  # broken JSON-LD is common; other sources remain
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                if "@graph" in item:
                    stack.append(item["@graph"])


def has_time(value: str) -> bool:
    """Whether a date string carries a time of day (``2026-08-29`` does not)."""
    return ":" in value


def _published_values(tree: HtmlElement, meta: dict[str, str]) -> Iterator[str]:
    for name in _DATE_META_NAMES:
        if meta.get(name):
            yield meta[name]
    for obj in _json_ld_objects(tree):
        value = obj.get("datePublished") or obj.get("dateCreated")
        if isinstance(value, str):
            yield value
    for node in tree.xpath('//time[@itemprop="datePublished" or @pubdate][@datetime]'):
        yield node.get("datetime")


def _published(tree: HtmlElement, meta: dict[str, str]) -> tuple[datetime | None, bool]:
    """The first parseable publication date, and whether it has a time of day."""
    for value in _published_values(tree, meta):
        found = parse_timestamp(value)
        if found:
            return found, has_time(value)
    return None, False


def _language(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    for value in (tree.get("lang"), tree.get("xml:lang"), meta.get("content-language"), meta.get("og:locale")):
        match = _LANG_RE.match((value or "").strip())
        if match:
            return match.group(1).lower()
    return None


def _canonical(tree: HtmlElement) -> str | None:
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rel and href:
            return href
    return None


def page_meta(tree: HtmlElement) -> PageMeta:
    """Read the canonical link, language, publication time and site name from a parsed page."""
    meta = _meta_values(tree)
    site = meta.get("og:site_name") or None
    published, with_time = _published(tree, meta)
    return PageMeta(_canonical(tree), _language(tree, meta), published, with_time, site)


@dataclass(slots=True)
class TrafilaturaMeta:
    """The fields of trafilatura's metadata pass that we use."""

    title: str | None = None
    author: str | None = None
    sitename: str | None = None


def trafilatura_metadata(tree: HtmlElement) -> TrafilaturaMeta:
    """Title, author and site name as ``trafilatura.metadata.extract_metadata`` finds them, for less.

    The same readers in the same order, without what we do not use (htmldate,
    categories, tags, licence, image), and the byline search of ``extractors.byline``
    (same rules and answers, without trafilatura's copy of the whole page).
    """
    from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename, extract_title

    from extractors.byline import extract_author

    found = examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None
    try:
        found = extract_meta_json(tree, found)
    except Exception:  # noqa: BLE001, S110 - trafilatura's JSON-LD reader has bugs; as extract_metadata does
        pass
    if not found.title:
        found.title = extract_title(tree)
    if not found.author:
        found.author = extract_author(tree)
    sitename = found.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    return TrafilaturaMeta(found.title, found.author, sitename or None)
