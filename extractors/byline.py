"""The byline search of ``trafilatura.metadata.extract_author``, in one pass and without a copy of the page.

Trafilatura deep-copies the page, prunes comment, sidebar, date and figure
sections from the copy, then runs three XPath expressions whose EXSLT regular
expressions call back into Python for every element: 17 ms a page on the
evaluation set when a page has any byline hint. The same rules here read the
attributes of the elements that have any (one XPath in libxml2), test them with
compiled expressions, and skip pruned sections by looking at the few matches'
ancestors. ``tests/extract/test_extractors_helpers.py`` checks that both give the same
author on real pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml.html import HtmlElement

_WITH_ATTRIBUTES = "//*[@class or @id or @itemprop or @rel or @data-testid or @data-component] | //author"
# A superset of the three rules below, as substrings of an element's lower-cased attributes
# (a case-insensitive regular expression cost 16 us an element).
_HINTS = (
    "author",
    "byl",
    "bbl",
    "username",
    "screenname",
    "writer",
    "zuozhe",
    "bianji",
    "xiaobian",
    "channel-name",
    "submitted-by",
    "posted-by",
    "journalist-name",
)

# Rule 1: specific and almost specific (trafilatura.xpaths.AUTHOR_XPATHS[0]).
_TAGS_1 = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_CLASS_1 = re.compile(r"author-?name|AuthorName|authorName")
# Rule 2: almost generic.
_TAGS_2 = frozenset({"a", "div", "h3", "h4", "p", "span"})
_EXACT_CLASS_2 = frozenset({"byline", "username", "byl", "BBL"})
_ID_2 = re.compile(r"author|zuozhe|bianji|xiaobian")
_CLASS_2 = re.compile(r"author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
# Rule 3: last resort, any element.
_ID_3 = re.compile(r"[Aa]uthor")
_CLASS_3 = re.compile(r"[Aa]uthor|screenname|writer|[Bb]yline")

# Sections trafilatura prunes before the search (AUTHOR_DISCARD_XPATHS).
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ALWAYS = frozenset({"time", "figure"})
_DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)|"
    r"print|category|meta-date|meta-reviewer"
)
_MAX_LENGTH = 120


def _rule(element: HtmlElement) -> int:
    """The first of trafilatura's three byline rules that ``element`` matches, or 0."""
    tag, get = element.tag, element.get
    cls, ident, itemprop = get("class"), get("id"), get("itemprop")
    if tag == "author":
        return 1
    if tag in _TAGS_1 and (
        get("rel") == "author"
        or ident == "author"
        or cls == "author"
        or itemprop == "author name"
        or get("data-testid") in ("AuthorCard", "AuthorURL")
        or (cls is not None and _CLASS_1.search(cls))
    ):
        return 1
    if tag in _TAGS_2 and (
        cls in _EXACT_CLASS_2
        or (itemprop is not None and "author" in itemprop)
        or (ident is not None and _ID_2.search(ident))
        or (cls is not None and _CLASS_2.search(cls))
    ):
        return 2
    if (
        "Byline" in (get("data-component") or "")
        or (itemprop is not None and "author" in itemprop)
        or (ident is not None and _ID_3.search(ident))
        or (cls is not None and _CLASS_3.search(cls))
    ):
        return 3
    return 0


def _discarded(element: HtmlElement) -> bool:
    tag = element.tag
    if tag in _DISCARD_ALWAYS:
        return True
    if tag not in _DISCARD_TAGS:
        return False
    get = element.get
    cls, ident = get("class"), get("id")
    return (
        ident == "comments"
        or cls in ("comments", "title", "date")
        or (ident is not None and bool(_DISCARD_ID.search(ident)))
        or (cls is not None and bool(_DISCARD_CLASS.search(cls)))
        or "Figure" in (get("data-component") or "")
    )


def _inside_discarded(element: HtmlElement) -> bool:
    # the root is never pruned: trafilatura's expressions select descendants only
    if element.getparent() is not None and _discarded(element):
        return True
    return any(_discarded(parent) for parent in element.iterancestors() if parent.getparent() is not None)


def _texts(element: HtmlElement) -> Iterator[str]:
    """``element.itertext()`` as it reads once pruned sections are gone (their tails stay)."""
    if element.text and isinstance(element.tag, str):
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and not _discarded(child):
            yield from _texts(child)
        if child.tail:
            yield child.tail


def find_byline(tree: HtmlElement) -> str | None:
    """The raw byline text trafilatura's author search would return (before ``normalize_authors``)."""
    by_rule: dict[int, list[HtmlElement]] = {1: [], 2: [], 3: []}
    for element in tree.xpath(_WITH_ATTRIBUTES):
        get = element.get
        values = f"{get('class')} {get('id')} {get('itemprop')} {get('data-testid')} {get('data-component')}".lower()
        if element.tag == "author" or get("rel") == "author" or any(hint in values for hint in _HINTS):
            rule = _rule(element)
            if rule:
                by_rule[rule].append(element)
    for rule in (1, 2, 3):
        for element in by_rule[rule]:
            if _inside_discarded(element):
                continue
            content = " ".join(" ".join(_texts(element)).split())
            if content and 2 < len(content) < _MAX_LENGTH:
                return content
    return None


def extract_author(tree: HtmlElement) -> str | None:
    """Author names as ``trafilatura.metadata.extract_author`` gives them."""
    from trafilatura.json_metadata import normalize_authors

    byline = find_byline(tree)
    return normalize_authors(None, byline) if byline else None
