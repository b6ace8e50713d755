"""Token-level precision/recall/F1 of article extraction for several trafilatura option sets.

Labelled pages come from the sample corpus (``newsdrift/ops/sample/corpus/manifest.json``:
each page's HTML and its expected ``body``) and from ``tests/data/extraction``
(``NAME.html`` + ``NAME.expected.txt``: hostile layouts with big navigation,
comments, related lists, cookie banners, pull quotes, a table, windows-1252).

Each page goes through ``extractors.article.extract_article`` exactly as in
the pipeline (so title stripping and whitespace cleaning count); a failed
extraction counts as empty text. Tokens are lower-cased words; P/R/F1 compare
token multisets, micro-averaged over all pages (and macro per page).

    PYTHONPATH=. python bench/extraction_quality.py [--json results.json] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.article import DEFAULT_OPTIONS, ExtractionOptions, extract_article  # noqa: E402
from extractors.settings import ExtractSettings  # noqa: E402
from newsdrift.fetch.charset import decode_html  # noqa: E402
from newsdrift.records import Failure, FeedEntry, FetchedPage  # noqa: E402

CORPUS_DIR = ROOT / "newsdrift" / "ops" / "sample" / "corpus"
EXTRA_DIR = ROOT / "tests" / "data" / "extraction"
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)

OPTION_SETS: dict[str, ExtractionOptions] = {
    "defaults (comments on)": ExtractionOptions(include_comments=True),
    "include_comments=False": ExtractionOptions(),
    "favor_precision": ExtractionOptions(favor_precision=True),
    "favor_recall": ExtractionOptions(favor_recall=True),
    "no tables": ExtractionOptions(include_tables=False),
    "favor_precision, no tables": ExtractionOptions(favor_precision=True, include_tables=False),
    "deduplicate (per page)": ExtractionOptions(deduplicate=True),
    "deduplicate (process-wide)": ExtractionOptions(deduplicate=True, dedup_scope="process"),
    "fast": ExtractionOptions(fast=True),
    "unwrap layout tables": ExtractionOptions(unwrap_layout_tables=True),
    "precision + unwrap": ExtractionOptions(favor_precision=True, unwrap_layout_tables=True),
    "precision + unwrap + pullquotes": ExtractionOptions(
        favor_precision=True, unwrap_layout_tables=True, drop_pullquotes=True
    ),
    "fast + unwrap + pullquotes": ExtractionOptions(fast=True, unwrap_layout_tables=True, drop_pullquotes=True),
    "unwrap + pullquotes": ExtractionOptions(unwrap_layout_tables=True, drop_pullquotes=True),
    "unwrap + pullquotes + standfirst": ExtractionOptions(
        unwrap_layout_tables=True, drop_pullquotes=True, keep_standfirst=True
    ),
}
"""Every set runs without comments (trafilatura returns them separately anyway) unless it says so."""


@dataclass(slots=True)
class LabelledPage:
    dataset: str
    name: str
    url: str
    html: str
    expected: str
    title: str = ""


@dataclass(slots=True)
class Score:
    tp: int = 0
    predicted: int = 0
    gold: int = 0
    failures: int = 0
    seconds: list[float] = field(default_factory=list)
    page_f1: list[float] = field(default_factory=list)

    def add(self, predicted: Counter[str], gold: Counter[str], seconds: float) -> None:
        tp = sum((predicted & gold).values())
        self.tp += tp
        self.predicted += sum(predicted.values())
        self.gold += sum(gold.values())
        self.seconds.append(seconds)
        self.page_f1.append(_f1(tp, sum(predicted.values()), sum(gold.values()))[2])

    @property
    def prf(self) -> tuple[float, float, float]:
        return _f1(self.tp, self.predicted, self.gold)


def _f1(tp: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = tp / predicted if predicted else 0.0
    r = tp / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def tokens(text: str) -> Counter[str]:
    return Counter(t.lower() for t in _TOKEN_RE.findall(text))


def _corpus_pages(corpus: Path) -> list[LabelledPage]:
    manifest_path = corpus / "manifest.json"
    if not manifest_path.exists():
        print(f"note: {manifest_path} not found; sample corpus skipped", file=sys.stderr)
        return []
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    base = "http://sample.invalid"
    placeholder = manifest.get("base_url_placeholder", "{base_url}")
    pages = []
    for item in manifest["pages"]:
        rel = item["path"].lstrip("/")
        html_path = corpus / (rel + "index.html" if rel.endswith("/") else rel)
        html, _ = decode_html(html_path.read_bytes(), item.get("content_type"))
        html = html.replace(placeholder, base)
        url = base + item["path"]
        pages.append(LabelledPage("sample corpus", item["id"], url, html, item["body"], item.get("title", "")))
    return pages


def _extra_pages(folder: Path) -> list[LabelledPage]:
    pages = []
    for html_path in sorted(folder.glob("*.html")):
        expected = html_path.with_name(html_path.stem + ".expected.txt")
        if not expected.exists():
            continue
        html, _ = decode_html(html_path.read_bytes(), "text/html")
        url = f"http://extraction.invalid/{html_path.stem}"
        pages.append(LabelledPage("hostile pages", html_path.stem, url, html, expected.read_text(encoding="utf-8")))
    return pages


SETTINGS = ExtractSettings(min_words=1)  # score short extractions instead of rejecting them


def run(pages: list[LabelledPage], options: ExtractionOptions, repeat: int = 1) -> dict[str, Score]:
    scores: dict[str, Score] = {"all": Score()}
    for page in pages:
        entry = FeedEntry(feed_url="", feed_name="", source="", link=page.url, title=page.title)
        fetched = FetchedPage(entry, page.url, page.url, 200, "text/html", page.html, datetime.now(UTC))
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = extract_article(fetched, SETTINGS, options=options)
            timings.append(time.perf_counter() - started)
        text = "" if isinstance(result, Failure) else result.text
        for key in ("all", page.dataset):
            score = scores.setdefault(key, Score())
            score.add(tokens(text), tokens(page.expected), statistics.median(timings))
            score.failures += isinstance(result, Failure)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--extra", type=Path, default=EXTRA_DIR)
    parser.add_argument("--repeat", type=int, default=3, help="extractions per page for the timing median")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--per-page", action="store_true", help="print P/R per page for every option set")
    args = parser.parse_args(argv)

    pages = _corpus_pages(args.corpus) + _extra_pages(args.extra)
    if not pages:
        print("no labelled pages found", file=sys.stderr)
        return 1
    datasets = sorted({p.dataset for p in pages})
    counts = ", ".join(f"{d}: {sum(p.dataset == d for p in pages)}" for d in datasets)
    print(f"{len(pages)} labelled pages ({counts})\n")
    header = f" {'option set':33} {'P':>6} {'R':>6} {'F1':>6} {'macroF1':>8} {'fail':>4} {'ms/page':>8}"
    for d in datasets:
        header += f" | {d[:14]:>14} F1"
    print(header)
    print("-" * len(header))
    run(pages, DEFAULT_OPTIONS)  # warm-up: imports and lxml/trafilatura caches out of the timings
    results: dict[str, Any] = {}
    per_page: list[str] = []
    chosen = next((name for name, opts in OPTION_SETS.items() if opts == DEFAULT_OPTIONS), None)
    for name, options in OPTION_SETS.items():
        # A process-wide dedup cache must start empty for a fair figure.
        from trafilatura.deduplication import LRU_TEST

        LRU_TEST.cache.clear()
        # Repeating a page would make the shared cache see it again and drop it.
        shared_cache = options.deduplicate and options.dedup_scope == "process"
        scores = run(pages, options, 1 if shared_cache else args.repeat)
        p, r, f1 = scores["all"].prf
        ms = 1000 * statistics.mean(scores["all"].seconds)
        macro = statistics.mean(scores["all"].page_f1)
        mark = "*" if name == chosen else " "
        line = f"{mark}{name:33} {p:6.3f} {r:6.3f} {f1:6.3f} {macro:8.3f} {scores['all'].failures:4d} {ms:8.1f}"
        for d in datasets:
            line += f" | {scores[d].prf[2]:17.3f}"
        print(line)
        if args.per_page:
            for page in pages:
                pp, pr, pf = run([page], options)["all"].prf
                label = f"{name[:30]:30} {page.dataset[:14]:14} {page.name[:34]:34}"
                per_page.append(f"{label} {pp:6.3f} {pr:6.3f} {pf:6.3f}")
        results[name] = {
            "options": asdict(options),
            "chosen": name == chosen,
            **{
                key: {
                    "precision": round(s.prf[0], 4),
                    "recall": round(s.prf[1], 4),
                    "f1": round(s.prf[2], 4),
                    "macro_f1": round(statistics.mean(s.page_f1), 4),
                    "failures": s.failures,
                    "ms_per_page": round(1000 * statistics.mean(s.seconds), 2),
                }
                for key, s in scores.items()
            },
        }
    print("\n* = extractors.article.DEFAULT_OPTIONS")
    if per_page:
        print(f"\n{'option set':30} {'dataset':14} {'page':34} {'P':>6} {'R':>6} {'F1':>6}")
        print("\n".join(per_page))
    if args.json:
        args.json.write_text(json.dumps({"pages": len(pages), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
