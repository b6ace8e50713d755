"""Article extraction with trafilatura: text and metadata from a fetched page.

The HTML is parsed once (``trafilatura.utils.load_html``); the same tree
feeds our metadata reader, ``bare_extraction`` (without its metadata pass) and
the few trafilatura metadata readers we use (title, site name; the byline
search is ``extractors.byline``, same rules without a copy of the page). Dates
come from page metadata, then htmldate's markup search, then the feed, then a
bounded scan of the page's text (no dateparser, at most ``_TEXT_DATE_SEGMENTS``
segments): htmldate's extensive search could take over a second on one page.

Cost on the trafilatura evaluation pages (``bench/extraction_realpages.py``):
1.14-1.2x plain ``trafilatura.extract`` on the held-out half (machine load moves it); trafilatura's own metadata pass
(``with_metadata=True``) cost a third of that on its own, mostly the author
search (a deep copy and pruning of the whole tree) and htmldate.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from extractors.language import guess_language
from extractors.layout import drop_pullquotes, unwrap_layout_tables
from extractors.pagemeta import PageMeta, page_meta, parse_timestamp, trafilatura_metadata
from extractors.settings import ExtractSettings
from extractors.standfirst import find_standfirst, with_standfirst
from extractors.urls import canonical_id_for_link, normalise_url, same_site
from newsdrift.records import Article, Failure, FetchedPage, content_sha1, stable_id

__all__ = ["DEFAULT_OPTIONS", "ExtractionOptions", "canonical_id_for_link", "extract_article", "content_sha1"]


@dataclass(frozen=True, slots=True)
class ExtractionOptions:
    """The trafilatura switches we tune (see bench/extraction_quality.py for the figures)."""

    favor_precision: bool = False
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    deduplicate: bool = False
    dedup_scope: Literal["page", "process"] = "page"
    """With ``deduplicate``: "page" uses a fresh cache per document (repeats inside
    the page only); "process" is trafilatura's shared cache, which also drops text
    seen on earlier pages, syndicated copies of a wire story included."""
    fast: bool = False
    unwrap_layout_tables: bool = False
    """Turn layout tables into divs first (see extractors/layout.py)."""
    drop_pullquotes: bool = False
    """Remove elements classed as pull quotes (they repeat a body sentence)."""
    keep_standfirst: bool = False
    """Put the summary paragraph under the headline back at the top of the text (see extractors/standfirst.py)."""

    def trafilatura_kwargs(self) -> dict[str, Any]:
        kwargs = asdict(self)
        for ours in ("unwrap_layout_tables", "drop_pullquotes", "keep_standfirst"):
            kwargs.pop(ours)
        if kwargs.pop("dedup_scope") == "page" and self.deduplicate:
            from trafilatura.deduplication import LRUCache

            kwargs["deduplicate"] = LRUCache(maxsize=1024)
        return kwargs


# trafilatura's own defaults (which ``trafilatura.extract`` uses), chosen on the tuned half of the
# real-page set (bench/extraction_realpages.py): favor_precision, picked earlier on the generated
# corpus, cost 6 % more time and lost 0.004 F1 there. Pull quotes repeat a body sentence. The standfirst
# (the lead under the headline) is body text for the page's readers and the labels: +22 of 1,438 chunks found there.
DEFAULT_OPTIONS = ExtractionOptions(
    include_comments=False, include_tables=True, unwrap_layout_tables=True, drop_pullquotes=True, keep_standfirst=True
)

FOCUS_OPTIONS = {
    "balanced": DEFAULT_OPTIONS,
    "precision": replace(DEFAULT_OPTIONS, favor_precision=True),
    "recall": replace(DEFAULT_OPTIONS, favor_recall=True),
}
"""``ExtractSettings.extraction_focus`` to options."""

# htmldate restricted to the page's markup (no text heuristics): cheap, and it is "page" metadata.
_METADATA_DATE_PARAMS = {"extensive_search": False, "original_date": True}
# The last-resort date scan looks at this many text segments at most (regular expressions only).
_TEXT_DATE_SEGMENTS = 400
_TEXT_DATE_MAX_CHARS = 80
_TEXT_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "textarea"})
_WS_RE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Zero-width space: a word-break hint inside words (Bengali, Thai, long URLs), not a space.
_ZWSP = "\u200b"


# Scripts written without spaces between words. Han and kana count one word per
# character (the convention of word processors for CJK); Thai, Lao, Khmer,
# Myanmar and Tibetan words average about four letters.
_CJK_RE = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d\U00020000-\U0003134f]"
)
_UNSPACED_RE = re.compile("[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff]")
_LETTERS_PER_UNSPACED_WORD = 4


def count_words(text: str) -> int:
    """Words in any script: whitespace-separated tokens, plus the words of scripts written without spaces."""
    words = 0
    for token in text.split():
        cjk = len(_CJK_RE.findall(token))
        unspaced = len(_UNSPACED_RE.findall(token))
        if not cjk and not unspaced:
            words += 1
            continue
        words += cjk + -(-unspaced // _LETTERS_PER_UNSPACED_WORD)
        rest = _UNSPACED_RE.sub(" ", _CJK_RE.sub(" ", token))
        words += sum(1 for part in rest.split() if any(ch.isalnum() for ch in part))
    return words


_LANGID_MIN_CONFIDENCE = 0.9


@functools.cache
def _langid() -> Any:
    """py3langid's identifier with normalised probabilities (the model loads on first use, ~0.5 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``: stop words for the common Latin-script languages, then py3langid."""
    found = guess_language(text)
    if found or not text.strip():
        return found
    lang, confidence = _langid().classify(text[:20_000])
    return str(lang) if confidence >= _LANGID_MIN_CONFIDENCE else None


def clean_text(text: str) -> str:
    """NFC, paragraphs on their own lines, inner whitespace collapsed, empty lines dropped.

    NFC as ``trafilatura.extract`` returns it: the same words in the same code points
    whichever way a page composed them, for search, dedup and drift alike.
    """
    text = unicodedata.normalize("NFC", text)
    lines = (_WS_RE.sub(" ", line.replace(_ZWSP, "")).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# Copyright and rights lines that close a page's text block (real-page set: they are never body).
_RIGHTS_RE = re.compile(
    r"^(?:©|\(c\)\s|copyright\s*(?:©|\(c\)|\d{4}|:))|all rights reserved|alle rechte vorbehalten|tous droits réservés|"
    r"todos los derechos reservados|tutti i diritti riservati",
    re.IGNORECASE,
)
_RIGHTS_MAX_WORDS = 25


def drop_trailing_rights(text: str) -> str:
    """Remove copyright lines at the end of the text (trafilatura keeps them when they sit in the article's block)."""
    lines = text.split("\n")
    while len(lines) > 1 and len(lines[-1].split()) <= _RIGHTS_MAX_WORDS and _RIGHTS_RE.search(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def strip_leading_title(text: str, title: str, *, max_lines: int = 4, max_words: int = 12) -> str:
    """Drop the headline when trafilatura kept it at the top of the body.

    Short lines above it (kicker, section, date) go with it: the article starts
    after its headline.
    """
    if not title:
        return text
    lines = text.split("\n")
    wanted = _fold(title)
    for index, line in enumerate(lines[:max_lines]):
        if _fold(line) == wanted:
            if all(len(before.split()) <= max_words for before in lines[:index]):
                return "\n".join(lines[index + 1 :])
            break
    return text


def _canonical_url(meta: PageMeta, final_url: str) -> str:
    """``rel=canonical`` when it is an http(s) URL on the same site, else the final URL; normalised."""
    if meta.canonical:
        candidate = urljoin(final_url, meta.canonical)
        if urlsplit(candidate).scheme in ("http", "https") and same_site(candidate, final_url):
            return normalise_url(candidate)
    return normalise_url(final_url)


def _publication_date(
    meta: PageMeta, page: FetchedPage, tree: Any, canonical_hint: str | None
) -> tuple[datetime | None, str]:
    """Page metadata, then htmldate on the markup, then the feed entry's date, then a bounded text scan.

    A page date without a time of day yields to a feed date of the same day
    (or the next/previous one, across time zones): same information, more precise.
    """
    feed_date = page.entry.published_at
    if feed_date is not None:
        feed_date = (feed_date if feed_date.tzinfo else feed_date.replace(tzinfo=UTC)).astimezone(UTC)
    page_date, with_time = meta.published_at, meta.published_has_time
    if page_date is None:
        page_date, with_time = parse_timestamp(_markup_date(tree, canonical_hint or page.final_url)), False
    if page_date is not None:
        if not with_time and feed_date is not None and abs((feed_date - page_date).days) <= 1:
            return feed_date, "feed"
        return page_date, "page"
    if feed_date is not None:
        return feed_date, "feed"
    guessed = parse_timestamp(_text_date(tree))
    return (guessed, "htmldate") if guessed else (None, "")


def _markup_date(tree: Any, url: str) -> str | None:
    """htmldate without its text heuristics (URL, header, JSON-LD, time/abbr elements, timestamp patterns)."""
    from htmldate import find_date

    try:
        return find_date(tree, url=url, **_METADATA_DATE_PARAMS)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a heuristic on hostile HTML; "no date" is a fine answer
        return None


def _text_segments(tree: Any) -> Any:
    body = tree.find("body")
    for element in (body if body is not None else tree).iter():
        if not isinstance(element.tag, str) or element.tag in _TEXT_SKIP_TAGS:
            continue
        for text in (element.text, element.tail):
            if text and 6 < len(stripped := text.strip()) <= _TEXT_DATE_MAX_CHARS:
                yield stripped


def _text_date(tree: Any) -> str | None:
    """The first date written in the page's text ("First published on 14 March 2026"), in document order.

    htmldate's own expression parser without dateparser, over at most ``_TEXT_DATE_SEGMENTS``
    short text segments: bounded, unlike htmldate's extensive search (dateparser's locale
    detection took up to 1.4 s on one page of the evaluation set).
    """
    from htmldate.extractors import try_date_expr

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    earliest, latest = datetime(1995, 1, 1), today + timedelta(days=2)
    try:
        for count, segment in enumerate(_text_segments(tree)):
            if count >= _TEXT_DATE_SEGMENTS:
                break
            found = try_date_expr(segment, "%Y-%m-%d", False, earliest, latest)
            if found:
                return str(found)
    except Exception:  # noqa: BLE001 - as above
        return None
    return None


def _real_site_name(name: str | None, url: str) -> str | None:
    """Trafilatura falls back to the host name; that is not a site name."""
    host = urlsplit(url).netloc.lower()
    if not name or name.lower() in (host, host.removeprefix("www.")):
        return None
    return name


def _authors(value: str | None, fallback: list[str]) -> list[str]:
    names = [re.sub(r"^by\s+", "", n.strip(), flags=re.IGNORECASE) for n in (value or "").split(";")]
    names = [n for n in dict.fromkeys(names) if n]
    return names or list(fallback)


def extract_article(
    page: FetchedPage, settings: ExtractSettings, *, options: ExtractionOptions | None = None
) -> Article | Failure:
    """The cleaned article in ``page``, or a ``Failure`` (unparseable, empty or too short).

    ``options`` default to those of ``settings.extraction_focus``.
    """
    if options is None:
        options = FOCUS_OPTIONS[settings.extraction_focus]
    where = f"page:{page.requested_url}"
    try:
        from trafilatura import bare_extraction
        from trafilatura.utils import load_html

        tree = load_html(page.html)
        if tree is None:
            return Failure(where, "not parseable as HTML")
        meta = page_meta(tree)
        if options.unwrap_layout_tables:
            unwrap_layout_tables(tree)
        # the class XPath costs about a millisecond; three pages in four have no "pull" anywhere in the source
        if options.drop_pullquotes and "pull" in page.html:
            drop_pullquotes(tree)
        # bare_extraction works on its own copy of the tree: ours stays as it was for the metadata below
        doc = bare_extraction(tree, url=page.final_url, with_metadata=False, **options.trafilatura_kwargs())
        if isinstance(doc, dict):  # only with as_dict=True, which ExtractionOptions never passes
            raise TypeError("bare_extraction returned a dict")
        if doc is None or doc.text is None or not doc.text.strip():
            return Failure(where, "no article text found")
        info = trafilatura_metadata(tree)
        standfirst = find_standfirst(tree) if options.keep_standfirst else None
    except Exception as exc:  # noqa: BLE001 - parser bugs on hostile pages become a recorded failure
        return Failure(where, f"extraction error: {type(exc).__name__}: {exc}")
    title = clean_text(info.title or "").replace("\n", " ") or page.entry.title
    text = drop_trailing_rights(strip_leading_title(clean_text(doc.text), title))
    if standfirst:
        text = with_standfirst(text, clean_text(standfirst))
    words = count_words(text)
    if words < settings.min_words:
        return Failure(where, f"body too short: {words} words (minimum {settings.min_words})")
    canonical = _canonical_url(meta, page.final_url)
    published, date_source = _publication_date(
        meta, page, tree, meta.canonical and urljoin(page.final_url, meta.canonical)
    )
    entry = page.entry
    return Article(
        id=stable_id(canonical),
        url=page.final_url,
        canonical_url=canonical,
        source=entry.source,
        feed_url=entry.feed_url,
        title=title,
        text=text,
        authors=_authors(info.author, entry.authors),
        published_at=published,
        fetched_at=page.fetched_at,
        language=meta.language or detect_language(text),
        site_name=meta.site_name or _real_site_name(info.sitename, page.final_url),
        word_count=words,
        content_sha1=content_sha1(text),
        feed_name=entry.feed_name,
        tags=list(entry.tags),
        date_source=date_source,
        decoding=page.decoding,
    )
