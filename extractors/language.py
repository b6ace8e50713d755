"""A last-resort language guess from stop words, for pages that declare none."""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Frequent function words that are rare in the other listed languages.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words("the and of to is that with for was are this have from which would their"),
    "fr": _words("le la les des est une dans que pour pas sur avec sont aux leur"),
    "de": _words("der die das und ist nicht mit sich auf ein eine dem den wird auch"),
    "es": _words("el los las del que por una para con está pero sus como más"),
    "it": _words("il della che non per una sono con gli nella anche delle questo"),
    "pt": _words("os das que não uma para com por mais dos está são também"),
    "nl": _words("de het een van en niet met zijn voor maar ook deze wordt"),
}
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str, *, min_hits: int = 8, margin: float = 2.0) -> str | None:
    """ISO 639-1 code when one language's stop words clearly dominate, else None."""
    counts = dict.fromkeys(_STOPWORDS, 0)
    for word in _WORD_RE.findall(text[:20_000].lower()):
        for lang, words in _STOPWORDS.items():
            if word in words:
                counts[lang] += 1
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    (best, hits), (_, runner_up) = ranked[0], ranked[1]
    if hits >= min_hits and hits >= margin * max(runner_up, 1):
        return best
    return None
