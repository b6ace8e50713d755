"""The standfirst: the summary paragraph under a headline (lead, deck, dek, chapo, teaser).

News and magazine pages set it in the article header, next to the ``h1`` and
outside the block trafilatura picks as the body, so the extracted text often
starts without it. The labelled real-page set counts it as body text (22
chunks on its tuned half were missed for that reason alone). This finds it in
the parsed tree: the first element after the page's first ``h1`` whose class
or id names a lead, before the body's first long paragraph, short, mostly not
link text, and not an image caption, byline or site tagline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from lxml.html import HtmlElement

# Class/id words sites use for the standfirst (English, French "chapo", German "Teaser"/"Vorspann" sites use these).
_LEAD_RE = re.compile(
    r"(?:^|[\s_-])(?:lead|lede|leadin|deck|dek|standfirst|chapo|chapeau|teaser|subheadline|subhead|subtitle|"
    r"intro|summary|excerpt|abstract|strapline|description)(?:$|[\s_-])",
    re.IGNORECASE,
)
# Same words on other things: the site's tagline, pictures and their captions, bylines.
_NOT_LEAD_RE = re.compile(r"site|image|img|photo|media|caption|figure|video|author|byline|avatar", re.IGNORECASE)
_CANDIDATE_TAGS = frozenset({"p", "div", "h2", "h3", "span"})
# Descendants that make an element a byline or picture block rather than prose.
_NOT_PROSE_TAGS = ("img", "figure", "time", "picture", "video", "ul", "ol", "table")
# Headings inside: a story card ("More coverage" teasers: a linked headline and its summary).
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LOOKAHEAD = 60  # elements after the h1
_MIN_CHARS, _MAX_CHARS = 40, 800  # one or two sentences; longer is the body (or a tag left open)
# The body has started: a paragraph this long, or this many paragraphs, before any lead.
_BODY_PARAGRAPH_WORDS = 25
_BODY_PARAGRAPHS = 3
_MIN_PARAGRAPH_WORDS = 8
_MAX_LINK_SHARE = 0.3


def _text(element: HtmlElement) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _is_lead(element: HtmlElement) -> str | None:
    """The element's text when it looks like a standfirst, else None."""
    marker = f"{element.get('class', '')} {element.get('id', '')}"
    if not _LEAD_RE.search(marker) or _NOT_LEAD_RE.search(marker):
        return None
    if next(element.iter(*_NOT_PROSE_TAGS), None) is not None:
        return None
    if next(element.iterdescendants(*_HEADING_TAGS), None) is not None:
        return None
    if any(ancestor.tag == "a" for ancestor in element.iterancestors()):
        return None
    text = _text(element)
    if not _MIN_CHARS <= len(text) <= _MAX_CHARS or "©" in text:  # a picture credit: a caption
        return None
    links = sum(len(_text(a)) for a in element.iter("a"))
    return text if links <= _MAX_LINK_SHARE * len(text) else None


def _following(element: HtmlElement) -> Iterator[HtmlElement]:
    """Elements after ``element`` in document order (XPath's ``following::*``), lazily."""
    node: HtmlElement | None = element
    while node is not None:
        for sibling in node.itersiblings():
            yield from (el for el in sibling.iter() if isinstance(el.tag, str))
        node = node.getparent()


def find_standfirst(tree: HtmlElement) -> str | None:
    """The standfirst's text (whitespace collapsed), or None when the page has none we can tell apart."""
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        return None
    paragraphs = 0
    for element in islice(_following(h1), _LOOKAHEAD):
        if element.tag in _CANDIDATE_TAGS:
            found = _is_lead(element)
            if found:
                return found
        if element.tag == "p" and (words := len(_text(element).split())) >= _MIN_PARAGRAPH_WORDS:
            paragraphs += 1
            if words >= _BODY_PARAGRAPH_WORDS or paragraphs >= _BODY_PARAGRAPHS:
                return None
    return None


def _fold(text: str) -> str:
    return " ".join(text.split())


def with_standfirst(text: str, standfirst: str | None) -> str:
    """``text`` with the standfirst as its first paragraph, unless the text already holds it."""
    if not standfirst or _fold(standfirst) in _fold(text):
        return text
    return f"{standfirst}\n{text}"
