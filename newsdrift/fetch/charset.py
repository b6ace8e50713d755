"""Decode HTML bytes: BOM, then HTTP charset, then <meta> charset, then detection.

Follows the WHATWG encoding rules where they matter for news sites: the
labels iso-8859-1/latin1/ascii mean windows-1252 (so 0x80-0x9F give curly
quotes, dashes and the euro sign, not control characters), and a <meta>
declaring UTF-16 in an ASCII-compatible document means UTF-8.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded page: its text, the codec used, and a note when the declaration lied or bytes were lost."""

    text: str
    encoding: str  # Python codec name ("utf_8", "cp1252", ...)
    note: str | None = None  # e.g. "declared utf-8 but the bytes are not; decoded as windows-1251", "lossy: ..."


def _whatwg_1252(exc: UnicodeError) -> tuple[str, int]:
    """The five bytes windows-1252 leaves undefined decode to the same code points (as in browsers)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(b) for b in exc.object[exc.start : exc.end]), exc.end


codecs.register_error("newsdrift-whatwg-1252", _whatwg_1252)


def _decode_strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding, errors="newsdrift-whatwg-1252" if encoding == "cp1252" else "strict")
    except (UnicodeDecodeError, LookupError):
        return None


def _label(encoding: str) -> str:
    """A WHATWG-style label for notes: "utf-8", "windows-1251", "gbk"."""
    if encoding.startswith("cp125"):
        return "windows-" + encoding[2:]
    return encoding.replace("_", "-")


def _lossy(body: bytes, encoding: str) -> Decoded:
    text = body.decode(encoding, errors="replace")
    lost = text.count("\ufffd")
    return Decoded(text, encoding, f"lossy: {lost} invalid {_label(encoding)} sequences replaced with U+FFFD")


def _mostly_utf8(body: bytes) -> bool:
    """UTF-8 with a few stray bytes (more well-formed multi-byte characters than broken sequences).

    Legacy single-byte text almost never forms a valid multi-byte sequence, so
    windows-1252 or windows-1251 pages read as UTF-8 are nearly all errors.
    """
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    multibyte = len(text) - len(text.encode("ascii", "ignore")) - broken
    return multibyte > 0 and multibyte >= 2 * broken


# Text decoded from UTF-8 bytes with a single-byte Latin code page: "Ã©" for "é", "â€™" for "’".
_MOJIBAKE_RE = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|\u00e2\u20ac"
)


def decode_page(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode HTML bytes, checking the declaration against the bytes.

    BOM, then the HTTP charset, then <meta> charset, then detection; but a
    declaration the bytes contradict is not followed blindly: non-ASCII bytes
    that are valid UTF-8 are UTF-8 whatever the label says, and bytes labelled
    UTF-8 that are not go to the detector (charset-normalizer). The note says
    when the declaration was overridden or when some bytes could only be
    replaced with U+FFFD.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            codec = name.replace("-", "_")
            text = _decode_strict(body[len(bom) :], codec)
            return Decoded(text, codec) if text is not None else _lossy(body[len(bom) :], codec)
    declared = charset_from_content_type(content_type) or charset_from_meta(body)
    if declared is None:
        encoding = detect_charset(body)
        text = _decode_strict(body, encoding)
        if text is not None:
            return Decoded(text, encoding)
        return _lossy(body, "utf_8") if _mostly_utf8(body) else _lossy(body, encoding)
    if declared != "utf_8" and not body.isascii() and _valid_utf8(body):
        # Server-wide "charset=ISO-8859-1" defaults and copied <meta> tags on UTF-8
        # pages are common; legacy bytes almost never form valid multi-byte UTF-8.
        note = f"declared {_label(declared)} but the bytes are UTF-8; decoded as utf-8"
        return Decoded(body.decode("utf-8"), "utf_8", note)
    text = _decode_strict(body, declared)
    if text is not None:
        if declared in _LATIN_SINGLE_BYTE and len(_MOJIBAKE_RE.findall(text)) >= 3 and _mostly_utf8(body):
            return _with_note(_lossy(body, "utf_8"), f"declared {_label(declared)} but the bytes are UTF-8")
        return Decoded(text, declared)
    if _mostly_utf8(body):
        lossy = _lossy(body, "utf_8")
        return (
            lossy if declared == "utf_8" else _with_note(lossy, f"declared {_label(declared)} but the bytes are UTF-8")
        )
    guess = detect_charset(body)
    text = _decode_strict(body, guess) if guess != declared else None
    if text is not None:
        return Decoded(text, guess, f"declared {_label(declared)} but the bytes are not; decoded as {_label(guess)}")
    return _lossy(body, declared)


def _with_note(decoded: Decoded, prefix: str) -> Decoded:
    return Decoded(decoded.text, decoded.encoding, f"{prefix}; {decoded.note}" if decoded.note else prefix)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page text and the codec used to decode it (see ``decode_page``)."""
    decoded = decode_page(body, content_type)
    return decoded.text, decoded.encoding
