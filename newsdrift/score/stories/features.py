"""Terms and names of one article, read from its own text: there is no NER model, so names are capitalised
spans, and whether a capitalised word is a name is learned from the stream (``NameLexicon``) because
title-case headlines capitalise every word."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9&'’.-]*[A-Za-z0-9])?")
_POSSESSIVE = re.compile(r"['’]s?$")
_SENTENCE_END = re.compile(r"[.!?:;|]\s|\s[-–—]\s")

# Function words and headline filler that say nothing about which event is reported.
_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers him
his how i if in into is it its itself just me more most my no nor not now of off on once only or other our out
over own same she should so some such than that the their them then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your yours may
might must shall via vs amid despite per new says say said saying report reports reported update updated news
latest live video photos photo watch first after's get gets got make makes like one two back week day today
year years us
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def stem(word: str) -> str:
    """Lowercase with plural and possessive endings dropped, so "Stocks" and "stock" are one term."""
    word = _POSSESSIVE.sub("", word.lower())
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass
class NameLexicon:
    """Per term, how often it was written capitalised and lowercase in the middle of sentence-case text."""

    capitalised: dict[str, int] = field(default_factory=dict)
    lowercase: dict[str, int] = field(default_factory=dict)

    def is_name(self, term: str) -> bool:
        caps = self.capitalised.get(term, 0)
        return caps > 0 and caps > 2 * self.lowercase.get(term, 0)

    def observe(self, term: str, capitalised: bool) -> None:
        table = self.capitalised if capitalised else self.lowercase
        table[term] = table.get(term, 0) + 1


@dataclass(frozen=True)
class Features:
    """Raw term counts (names, spans and numbers included) and which of those terms are names or numbers."""

    terms: dict[str, float]
    names: frozenset[str]


def _is_capitalised(token: str) -> bool:
    return token[0].isupper() or (token[0].isdigit() and any(c.isupper() for c in token))


def _segments(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text) if part.strip()]


def extract(title: str, text: str, lexicon: NameLexicon, *, learn: bool = True) -> Features:
    """Content terms, names and numbers of an article; updates ``lexicon`` from sentence-case segments."""
    terms: dict[str, float] = {}
    names: set[str] = set()
    for segment in _segments(title) + _segments(text):
        tokens = _TOKEN.findall(segment)
        words = [t for t in tokens if t[0].isalpha() and stem(t) not in STOPWORDS]
        capped = sum(1 for t in words if _is_capitalised(t))
        title_case = len(words) >= 3 and capped >= 0.7 * len(words)
        span: list[str] = []
        for position, token in enumerate(tokens):
            term = stem(token)
            if not term or term in STOPWORDS or len(term) < 2:
                _close_span(span, terms, names)
                continue
            mid_sentence = position > 0 and not title_case
            if learn and mid_sentence and token[0].isalpha():
                lexicon.observe(term, token[0].isupper())
            is_number = any(c.isdigit() for c in term)
            acronym = len(token) >= 2 and token.isupper() and token.isalpha() and not title_case
            is_name = token[0].isupper() and ((mid_sentence and token[0].isupper()) or acronym or lexicon.is_name(term))
            terms[term] = terms.get(term, 0.0) + 1.0
            if is_number or is_name:
                names.add(term)
            if is_name:
                span.append(term)
            else:
                _close_span(span, terms, names)
        _close_span(span, terms, names)
    return Features(terms=terms, names=frozenset(names))


def _close_span(span: list[str], terms: dict[str, float], names: set[str]) -> None:
    """A multi-word name ("charles plosser") is one extra term beside its words."""
    if len(span) >= 2:
        joined = " ".join(span)
        terms[joined] = terms.get(joined, 0.0) + 1.0
        names.add(joined)
    span.clear()
