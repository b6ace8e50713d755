"""Decode HTML bytes: BOM, then HTTP charset, then <meta> charset, then detection.

Follows the WHATWG encoding rules where they matter for news sites: the
labels iso-8859-1/latin1/ascii mean windows-1252 (so 0x80-0x9F give curly
quotes, dashes and the euro sign, not control characters), and a <meta>
declaring UTF-16 in an ASCII-compatible document means UTF-8.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels browsers decode as windows-1252 (WHATWG Encoding Standard).
_AS_WINDOWS_1252 = frozenset({"latin_1", "ascii", "cp1252", "iso8859_1"})
# Other legacy labels browsers decode with the Windows superset.
_SUPERSETS = {"gb2312": "gbk", "shift_jis": "cp932", "euc_kr": "cp949", "iso8859_9": "cp1254", "iso8859_11": "cp874"}
_LATIN_SINGLE_BYTE = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", "cp437", "cp850", "mac_roman", "mac_latin2", "latin_1"}
    | {f"iso8859_{n}" for n in (1, 2, 3, 4, 9, 10, 13, 14, 15, 16)}
)
_CHARSET_PARAM_RE = re.compile(r"""charset\s*=\s*["']?\s*([\w.:\-]+)""", re.IGNORECASE)
_META_RE = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?\s*([\w.:\-]+)""", re.IGNORECASE)
_PRESCAN_BYTES = 4096  # like browsers, only look for <meta> near the top


def normalise_label(label: str | None) -> str | None:
    """Python codec name for an encoding label (None when unknown), WHATWG-adjusted."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    if name in _AS_WINDOWS_1252:
        return "cp1252"
    return _SUPERSETS.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _CHARSET_PARAM_RE.search(content_type or "")
    return normalise_label(match.group(1)) if match else None


def charset_from_meta(body: bytes) -> str | None:
    """Encoding declared by a <meta charset> or <meta http-equiv content-type> near the top."""
    for tag in _META_RE.findall(body[:_PRESCAN_BYTES]):
        match = _META_CHARSET_RE.search(tag)
        if match:
            name = normalise_label(match.group(1).decode("ascii", "ignore"))
            if name and name.startswith("utf_16"):
                return "utf_8"  # the document is ASCII-compatible if we could read the tag
            if name:
                return name
    return None


def _valid_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_charset(body: bytes) -> str:
    """Best guess for undeclared bytes: UTF-8 if valid, else charset-normalizer, else windows-1252.

    Between the single-byte Latin code pages a detector mostly guesses from a
    handful of accented letters (it reads "£" as the "Ł" of windows-1250), so
    any Latin guess becomes windows-1252, the browsers' default for Western
    pages; other scripts (Cyrillic, CJK, Greek, ...) keep the detector's answer.
    """
    if _valid_utf8(body):
        return "utf_8"
    from charset_normalizer import from_bytes  # only needed for undeclared legacy pages

    best = from_bytes(body[:200_000]).best()
    guess = normalise_label(best.encoding if best else None)
    if guess is None or guess in _LATIN_SINGLE_BYTE:
        return "cp1252"
    return guess


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page text and the codec used to decode it."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name.replace("-", "_")
    encoding = charset_from_content_type(content_type)
    if encoding == "cp1252" and not body.isascii() and _valid_utf8(body):
        # Server-wide "charset=ISO-8859-1" defaults on UTF-8 pages are common;
        # legacy bytes almost never form valid multi-byte UTF-8, so trust the bytes.
        encoding = "utf_8"
    encoding = encoding or charset_from_meta(body) or detect_charset(body)
    return body.decode(encoding, errors="replace"), encoding
