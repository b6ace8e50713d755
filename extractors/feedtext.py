"""An article from the feed's own content, for pages that cannot be had (bot walls, paywalls, robots.txt,
pages rendered by JavaScript). Marked ``text_source: feed`` so counts and alerts stay honest about it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from extractors.article import count_words, detect_language
from extractors.settings import ExtractSettings
from extractors.urls import normalise_url
from newsdrift.records import Article, Failure, FeedEntry, stable_id

# Why a page could not be used, and whether the feed's text may stand in for it. A 404/410 is an article
# that is gone, and a non-HTML link is not an article: those are not indexed from the feed.
_FALLBACK = re.compile(
    r"^(HTTP (401|402|403|451)\b|robots\.txt disallows|body too short|no article text found|not parseable as HTML)"
)


def falls_back(failure: Failure) -> bool:
    """Whether the feed's content may replace the page that gave ``failure``."""
    return not failure.transient and bool(_FALLBACK.match(failure.reason))


def feed_text(entry: FeedEntry) -> str:
    """The longer of the entry's full content (content:encoded) and its summary."""
    return max((entry.content, entry.summary), key=count_words).strip()


def article_from_feed(entry: FeedEntry, failure: Failure, settings: ExtractSettings) -> Article | None:
    """The entry as an article, or None when its feed text is shorter than ``feed_text_min_words``."""
    text = feed_text(entry)
    words = count_words(text)
    if words < settings.feed_text_min_words:
        return None
    canonical = normalise_url(entry.link)  # the id select_new_entries gives the link: the next pass knows it
    return Article(
        id=stable_id(canonical),
        url=entry.link,
        canonical_url=canonical,
        source=entry.source,
        feed_url=entry.feed_url,
        title=entry.title or entry.link,
        text=text,
        authors=list(entry.authors),
        published_at=entry.published_at,
        fetched_at=datetime.now(UTC),
        language=detect_language(text),
        site_name=None,
        word_count=words,
        content_sha1="",
        feed_name=entry.feed_name,
        tags=list(entry.tags),
        date_source="feed" if entry.published_at else "",
        text_source="feed",
        text_source_reason=failure.reason,
    )
