"""Flag text in tracked files that tells how the project was built rather than what it is.

Prints ``path:line: reason`` for each hit and exits 1 if there is any. Stdlib only; run from anywhere
inside the checkout (``make lint`` runs it). With paths as arguments, only those files are scanned.

What counts (see ``RULES``): references to the project's own issues or pull requests (a bare ``#N``,
``issue N``), numbered or ordinal work sessions and rounds, commit hashes presented as commits, "this
branch" / "this change", and phrases that narrate the code's own past ("used to", "as before",
"(was X)", "before the fix"...). Text that only looks alike passes: URL fragments, HTML entities, CSS
colours, another project's issue named with the project (``owner/repo#N``, ``Airflow #N``), an HTTP
or database session, rounding, sha1 values in data.

Article text (the sample corpus, page and dedup fixtures, baseline seeds) is third-party prose: only
the mechanical rules apply there, not the wording rules. A changelog narrates releases by design, so
the wording rules skip it too. The checker, ``tests/test_history_lint.py`` and ``tests/data/history/``
(its fixtures) are skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the checker, its tests and their fixtures quote the very phrases they look for
SKIPPED = re.compile(r"^(?:tests/data/history/|scripts/check_history\.py$|tests/test_history_lint\.py$)")
# Third-party article text: pages, corpora, seed documents (code and notes beside them are scanned fully).
ARTICLE_TEXT = re.compile(
    r"^(?:baseline/|newsdrift/ops/sample/(?:corpus|sources|page_templates)/|tests/data/)"
    r"(?!.*\.(?:py|md)$)"
)
CHANGELOG = re.compile(r"(?:^|/)CHANGELOG[^/]*$", re.IGNORECASE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten"
_ORDINALS = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th)"
    r"|previous|earlier|prior|last|next|later|latest|final)"
)
_CHANGE_VERBS = (
    r"(?:changed|added|fixed|removed|made|brought|introduced|moved|rewrote|replaced|dropped|split|"
    r"reworked|renamed|switched|gave|found|measured)"
)

# Words before "#N" or "issue N" that show the number is NOT a reference to another project's tracker
# (a capitalised word is otherwise read as a project name: "FreshRSS #6916", "Airflow issue 123").
_NOT_PROJECTS = _words(
    "a an and also as at after before by cf closes closed close during fix fixes fixed for from github "
    "gitlab how in issue issues its main master merge merged of on or our per pr pull re ref refs request "
    "resolve resolves resolved see since session sessions round rounds that the these this those ticket "
    "to until what when where which why with without bug bugs commit branch"
)
# Lower-case nouns after which "#N" counts things at run time ("entry #3", "ranked #1").
_COUNTED = _words(
    "item items entry entries step steps line lines row rows page pages column col no number ranked rank "
    "slot pass attempt try run batch shard node host chunk part window worker feed article doc document "
    "test case episode version level tier seat"
)

_CSS_CONTEXT = re.compile(r"(?i)\b(?:colou?r|background|fill|stroke|border|outline|shadow|style|css)\b")
_HASH_REF = re.compile(r"(?<![\w&/#}\])\"'=:.`\\-])#(\d{1,6})\b(?![\w-])")
_ISSUE_WORD = re.compile(r"(?i)(?<![\w/-])(?:issues?|tickets?|bugs?)\s+#?(\d{1,6})\b(?![\w-])")
_PR_WORD = re.compile(r"(?<![\w/-])(?:PR|MR|[Pp]ull [Rr]equest)s?\s+#?\d{1,6}\b(?![\w-])")


def _is_hex_id(token: str) -> bool:
    """Hex with both a digit and a letter (a bare number or word is not a commit)."""
    return bool(re.search(r"\d", token)) and bool(re.search(r"[a-f]", token))


def _previous_word(text: str) -> str | None:
    """The word right before the end of ``text``, with only spaces between (None after punctuation)."""
    m = re.search(r"([A-Za-z][\w.+-]*(?:/[\w.+-]+)?)[ \t]+$", text)
    return m.group(1) if m else None


def _names_other_project(word: str | None) -> bool:
    if word is None:
        return False
    if "/" in word:
        return True  # owner/repo issue 12
    return word.lower() not in _NOT_PROJECTS and any(c.isupper() for c in word)


def _hash_refs(line: str) -> Iterator[str]:
    for m in _HASH_REF.finditer(line):
        digits = m.group(1)
        if len(digits) in (3, 4, 6, 8) and _CSS_CONTEXT.search(line):
            continue  # a CSS colour
        before = line[: m.start()]
        if before.endswith("]("):
            continue  # a Markdown link to an anchor
        word = _previous_word(before)
        if word is not None and (word.lower() in _COUNTED and word.islower() or _names_other_project(word)):
            continue
        if word is not None and (_ISSUE_WORD.match(f"{word} #{digits}") or _PR_WORD.match(f"{word} #{digits}")):
            continue  # reported by the "issue N" / "PR N" rule
        yield f"issue reference '#{digits}'"


def _issue_words(line: str) -> Iterator[str]:
    for m in _ISSUE_WORD.finditer(line):
        if _names_other_project(_previous_word(line[: m.start()])):
            continue
        yield f"issue reference '{m.group(0).strip()}'"
    for m in _PR_WORD.finditer(line):
        if _names_other_project(_previous_word(line[: m.start()])):
            continue
        yield f"pull request reference '{m.group(0).strip()}'"


_COMMIT_PATTERNS = (
    re.compile(r"(?i)\bcommit(?:s|ted)?\s+([0-9a-f]{7,40})\b"),
    re.compile(r"\(\s*([0-9a-f]{7,12})(?='s\b|\s*[),;])"),
    re.compile(r"(?<![\w-])([0-9a-f]{7,40})'s\b"),
    re.compile(
        r"(?i)\b(?:main|master|HEAD|before|after|since|until|against|vs\.?|reverted|reverts?|"
        r"cherry-picked|merged|git (?:show|checkout|revert|cherry-pick|log|diff))\s+([0-9a-f]{7,12})\b(?![\w-])"
    ),
)


def _commit_hashes(line: str) -> Iterator[str]:
    seen: set[str] = set()
    for pattern in _COMMIT_PATTERNS:
        for m in pattern.finditer(line):
            token = m.group(1)
            if _is_hex_id(token.lower()) and token not in seen:
                seen.add(token)
                yield f"commit hash '{token}'"


_NUMBERED_SESSION = re.compile(
    rf"(?i)(?<![\w.-])(?:sessions?|rounds?)\s+(?:#?\d+\b(?![.,]\d)|(?:{_NUMBER_WORDS})\s+{_CHANGE_VERBS}\b)"
)
# A numbered session of something else: "HTTP session 2", "database session 1".
_SESSION_KINDS = _words(
    "http https requests aiohttp httpx client browser user login tls ssl ssh db database sql sqlalchemy "
    "orm airflow celery redis websocket shell tmux repl"
)


def _numbered_sessions(line: str) -> Iterator[str]:
    for m in _NUMBERED_SESSION.finditer(line):
        word = _previous_word(line[: m.start()])
        if word is not None and word.lower() in _SESSION_KINDS:
            continue
        yield f"numbered work session/round '{m.group(0).strip()}'"


def _regex_rule(pattern: str, reason: str, flags: int = re.IGNORECASE) -> Callable[[str], Iterator[str]]:
    compiled = re.compile(pattern, flags)

    def rule(line: str) -> Iterator[str]:
        for m in compiled.finditer(line):
            yield f"{reason} '{m.group(0).strip()}'"

    return rule


@dataclass(frozen=True)
class Rule:
    name: str
    check: Callable[[str], Iterable[str]]
    wording: bool  # a wording rule: skipped on article text and in a changelog


RULES: tuple[Rule, ...] = (
    Rule("issue-hash", _hash_refs, wording=False),
    Rule("issue-word", _issue_words, wording=False),
    Rule("commit-hash", _commit_hashes, wording=False),
    Rule("numbered-session", _numbered_sessions, wording=False),
    Rule(
        "ordinal-session",
        _regex_rule(
            rf"\b(?:{_ORDINALS}|this|that|same|another)\s+(?:(?:work|working|coding|dev|development|review)\s+"
            r"(?:sessions?|rounds?|pass(?:es)?)|(?:sessions?|rounds?|pass(?:es)?|iterations?)\s+of\s+work)\b",
            "work session/round",
        ),
        wording=True,
    ),
    Rule(
        "session-changed",
        _regex_rule(rf"\b{_ORDINALS}\s+(?:session|round)(?:'s)?\s+{_CHANGE_VERBS}\b", "work session/round"),
        wording=True,
    ),
    Rule(
        "this-branch",
        _regex_rule(
            r"\b(?:this|main and this)\s+(?:branch|change(?:set)?|PR|pull request|patch)\b"
            r"(?!\s+(?:of|is taken|handles|runs|returns|raises|covers|only|point|events?|detector|score|is rare|"
            r"is detected|fires|begins|starts|ends|comes|lasts|window)\b)"
            r"(?![-_])",
            "refers to the change itself",
        ),
        wording=True,
    ),
    Rule(
        "used-to",
        _regex_rule(
            r"\b(?:(?:it|that|which|what|this|they|we|there|he|she)\s+used to|used to be)\b", "narrates history"
        ),
        wording=True,
    ),
    Rule("as-before", _regex_rule(r"\bas before\s*(?:[.,;:)\]]|$|--|—)", "narrates history"), wording=True),
    Rule(
        "previously",
        _regex_rule(
            r"(?:\(\s*previously\b|(?:^|[.;:]\s+|#\s*|\"\"\"\s*|\*\s+)previously\s*,|\bpreviously\s*:)",
            "narrates history",
        ),
        wording=True,
    ),
    Rule(
        "was-parenthesis",
        _regex_rule(
            r"\(\s*(?:was|were|formerly|renamed from|moved from)\s+[^)\s]+|[;,]\s*(?:was|formerly)\s+[\w./`'-]+\)",
            "narrates history",
        ),
        wording=True,
    ),
    Rule(
        "formerly",
        _regex_rule(r"\b(?:formerly|was renamed|renamed from|until recently|until now)\b(?=\s*\S)", "narrates history"),
        wording=True,
    ),
    Rule(
        "the-fix",
        _regex_rule(
            r"\b(?:before|after|since|until|without|prior to)\s+(?:the|this|that|our|its)\s+"
            r"(?:fix|rewrite|refactor(?:ing)?|reorgani[sz]ation|merges?|rework)\b"
            r"|\b(?:before|after|since|until|prior to)\s+(?:this|that)\s+change\b",
            "narrates history",
        ),
        wording=True,
    ),
    Rule(
        "old-code",
        _regex_rule(
            r"\b(?:the|our)\s+(?:old|previous|earlier|former)\s+"
            r"(?:code|behaviou?r|implementation|version of (?:the|this) code)\b",
            "narrates history",
        ),
        wording=True,
    ),
)


def is_text(data: bytes) -> bool:
    return b"\0" not in data[:8192]


def scan_text(path: str, text: str) -> list[tuple[int, str]]:
    """``(line number, reason)`` for every hit in ``text``, read as the file at ``path`` (repo-relative)."""
    if SKIPPED.search(path):
        return []
    wording = not ARTICLE_TEXT.search(path) and not CHANGELOG.search(path)
    hits: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        for rule in RULES:
            if rule.wording and not wording:
                continue
            hits.extend((number, reason) for reason in rule.check(line))
    return hits


def scan_line(line: str, path: str = "example.py") -> list[str]:
    """The reasons ``line`` is flagged, read as a line of ``path``."""
    return [reason for _, reason in scan_text(path, line)]


def tracked_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]


def main(argv: list[str]) -> int:
    names = [str(Path(a).resolve().relative_to(ROOT)) for a in argv] if argv else tracked_files(ROOT)
    found = 0
    for name in names:
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the work tree, or a submodule
        data = path.read_bytes()
        if not is_text(data):
            continue
        for number, reason in scan_text(name, data.decode("utf-8", "replace")):
            print(f"{name}:{number}: {reason}")
            found += 1
    if found:
        print(f"{found} line(s) tell how the project was built: say what the code does, and why", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
