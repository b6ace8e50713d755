"""Text normalisation shared by extraction and duplicate detection: one exact-duplicate key."""

from __future__ import annotations

import hashlib
import unicodedata


class _Separators(dict[int, int | str | None]):
    """``str.translate`` table, filled per code point on first sight (C speed afterwards)."""

    def __missing__(self, code: int) -> int | str | None:
        ch = chr(code)
        # Apostrophes vanish so "meta's" stays one word; other punctuation,
        # symbols, separators and controls become a space so "open-source"
        # and "open source" normalise alike.
        value: int | str | None = None if ch in "'\u2019" else " " if unicodedata.category(ch)[0] in "PSZC" else code
        self[code] = value
        return value


_SEPARATORS = _Separators()


def normalize_text(text: str) -> str:
    """NFKC, lowercase, punctuation and symbols to spaces, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().translate(_SEPARATORS).split())


def content_sha1(text: str) -> str:
    """sha1 of the normalised text: equal for copies that differ only in case, punctuation or spacing."""
    return hashlib.sha1(normalize_text(text).encode("utf-8")).hexdigest()
