"""Extraction cost and quality on real pages: newsdrift's ``extract_article`` against plain trafilatura.

Pages and labels: the trafilatura evaluation set (/work/shared/data/README.md), unpacked at run
time into ``.cache/trafilatura-eval`` (git ignores ``.cache``) and scored with that set's own
scorer, ``tests/eval_common.py`` (imported from the unpacked folder, not copied): for each page,
text chunks that must appear in the body ("with") and chunks that must not ("without").

The pages are split in two halves by a hash of the file name (fixed, deterministic): option
choices in ``extractors/article.py`` were made on the "tuned" half; the "held-out" half is
the figure to report. Plain trafilatura is ``trafilatura.extract(html_bytes)`` with the
scorer's canonical options (``EXTRACT_OPTS``: no comments, tables, no formatting). Both are
scored on the body text (newsdrift keeps the headline in its own ``title`` field).

Cost is per page, both extractors on the same page one after the other (best of ``--repeat``),
in one process, after a warm-up pass; the ratio is total newsdrift time / total plain time.

    python bench/extraction_realpages.py [--archive ../shared/data/trafilatura-eval.tar.gz] [--json out.json]
    python bench/extraction_realpages.py --ablate   # tuned half: each post-processing step off in turn
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "trafilatura-eval.tar.gz"
CACHE_DIR = ROOT / ".cache" / "trafilatura-eval"


def unpack(archive: Path = DEFAULT_ARCHIVE, target: Path = CACHE_DIR) -> Path:
    """The unpacked ``tests`` folder of the evaluation set; unpacks ``archive`` on first use."""
    tests = target / "tests"
    if not (tests / "evaldata.json").exists():
        if not archive.exists():
            raise SystemExit(f"{archive} not found (see /work/shared/data/README.md); pass --archive")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    return tests


def scorer(tests: Path) -> ModuleType:
    """The evaluation set's own ``eval_common`` module, imported from the unpacked folder."""
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    return importlib.import_module("eval_common")


def half(filename: str) -> str:
    """ "tuned" or "held-out", fixed by the file name."""
    return "tuned" if hashlib.sha1(filename.encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


@dataclass(slots=True)
class RealPage:
    url: str
    filename: str
    raw: bytes
    item: dict[str, Any]
    split: str


def load_pages(tests: Path) -> list[RealPage]:
    ec = scorer(tests)
    evaldata = ec.load_evaldata(str(tests))
    docs = ec.read_corpus(str(tests), evaldata)
    return [
        RealPage(url, evaldata[url]["file"], raw, evaldata[url], half(evaldata[url]["file"]))
        for url, (_, raw) in docs.items()
    ]


@dataclass(slots=True)
class Tally:
    counts: Any
    seconds: float = 0.0
    pages: int = 0
    failures: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)


def newsdrift_runner(options: Any = None) -> Any:
    from extractors.article import extract_article
    from extractors.settings import ExtractSettings
    from newsdrift.fetch.charset import decode_html
    from newsdrift.records import Failure, FeedEntry, FetchedPage

    settings = ExtractSettings(min_words=1)  # score short extractions instead of rejecting them

    def run(page: RealPage) -> str | None:
        # as the pipeline does it: bytes decoded by the fetcher, then extract_article
        html, decoding = decode_html(page.raw, "text/html")
        entry = FeedEntry(feed_url="", feed_name="", source="", link=page.url)
        fetched = FetchedPage(entry, page.url, page.url, 200, "text/html", html, datetime.now(UTC), decoding or None)
        result = extract_article(fetched, settings, options=options)
        # the body, as trafilatura.extract returns it (newsdrift keeps the headline in its own field)
        return None if isinstance(result, Failure) else result.text

    return run


def evaluate(pages: list[RealPage], tests: Path, repeat: int = 1) -> dict[str, dict[str, Tally]]:
    ec = scorer(tests)
    import trafilatura

    runners = {
        "plain": lambda page: trafilatura.extract(page.raw, **ec.EXTRACT_OPTS),
        "newsdrift": newsdrift_runner(),
    }
    tallies = {split: {name: Tally(ec.ConfusionMatrix()) for name in runners} for split in ("tuned", "held-out", "all")}
    for page in pages:
        for name, run in runners.items():
            best, result = float("inf"), None
            for _ in range(repeat):
                started = time.perf_counter()
                try:
                    result = run(page)
                except Exception:  # noqa: BLE001 - as eval_common.run_and_count: a crash is a full miss
                    result = None
                best = min(best, time.perf_counter() - started)
            counts = ec.count_item(page.item, result)
            for split in (page.split, "all"):
                tally = tallies[split][name]
                tally.counts.add(counts)
                tally.seconds += best
                tally.pages += 1
                tally.failures += result is None
                tally.slowest.append((best, page.filename))
    return tallies


def summary(tallies: dict[str, dict[str, Tally]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split, by_name in tallies.items():
        row: dict[str, Any] = {}
        for name, tally in by_name.items():
            p, r, _, f1 = tally.counts.scores()
            row[name] = {
                "pages": tally.pages,
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(f1, 4),
                "failures": tally.failures,
                "ms_per_page": round(1000 * tally.seconds / max(tally.pages, 1), 2),
                "slowest": [(round(s * 1000, 1), f) for s, f in sorted(tally.slowest, reverse=True)[:3]],
            }
        row["cost_ratio"] = round(by_name["newsdrift"].seconds / max(by_name["plain"].seconds, 1e-9), 3)
        out[split] = row
    return out


# Post-processing steps of extract_article, each switched off on its own for --ablate:
# an ExtractionOptions field set to False, or a function of extractors.article replaced by a no-op.
ABLATIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "unwrap_layout_tables": ({"unwrap_layout_tables": False}, {}),
    "drop_pullquotes": ({"drop_pullquotes": False}, {}),
    "keep_standfirst": ({"keep_standfirst": False}, {}),
    "clean_text": ({}, {"clean_text": lambda text: text}),
    "strip_leading_title": ({}, {"strip_leading_title": lambda text, title: text}),
    "drop_trailing_rights": ({}, {"drop_trailing_rights": lambda text: text}),
}


@contextmanager
def _patched(module: ModuleType, functions: dict[str, Any]) -> Iterator[None]:
    saved = {name: getattr(module, name) for name in functions}
    try:
        for name, function in functions.items():
            setattr(module, name, function)
        yield
    finally:
        for name, function in saved.items():
            setattr(module, name, function)


def ablate(pages: list[RealPage], tests: Path, split: str = "tuned") -> int:
    """Quality with each post-processing step off, on one half only; prints the pages each step changes."""
    from dataclasses import replace

    import extractors.article as article

    ec = scorer(tests)
    pages = [page for page in pages if page.split == split]

    def score(options: Any, functions: dict[str, Any]) -> tuple[Any, dict[str, tuple[int, int, int, int]]]:
        run, counts, per_page = newsdrift_runner(options), ec.ConfusionMatrix(), {}
        with _patched(article, functions):
            for page in pages:
                per_page[page.filename] = ec.count_item(page.item, run(page))
                counts.add(per_page[page.filename])
        return counts, per_page

    import trafilatura

    plain = ec.ConfusionMatrix()
    for page in pages:
        plain.add(ec.count_item(page.item, trafilatura.extract(page.raw, **ec.EXTRACT_OPTS)))
    full, full_pages = score(article.DEFAULT_OPTIONS, {})
    print(f"ablation on the {split} half ({len(pages)} pages): each step off on its own; (tp, fp, fn, tn) per page")
    print(f"{'variant':26} {'P':>6} {'R':>6} {'F1':>6} {'dF1':>7} {'tp':>5} {'fp':>4}")
    base_f1 = full.scores()[3]
    for name, counts in (("plain trafilatura", plain), ("newsdrift (all steps)", full)):
        p, r, _, f1 = counts.scores()
        print(f"{name:26} {p:6.3f} {r:6.3f} {f1:6.3f} {f1 - base_f1:+7.4f} {counts.tp:5d} {counts.fp:4d}")
    for name, (fields, functions) in ABLATIONS.items():
        counts, per_page = score(replace(article.DEFAULT_OPTIONS, **fields), functions)
        p, r, _, f1 = counts.scores()
        print(f"{'- ' + name:26} {p:6.3f} {r:6.3f} {f1:6.3f} {f1 - base_f1:+7.4f} {counts.tp:5d} {counts.fp:4d}")
        for filename, got in per_page.items():
            if got != full_pages[filename]:
                print(f"    {filename}: {full_pages[filename]} with the step, {got} without")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="trafilatura-eval.tar.gz")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="where to unpack it")
    parser.add_argument("--repeat", type=int, default=1, help="runs per page and extractor (best one counts)")
    parser.add_argument("--limit", type=int, help="only the first N pages (quick look)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--ablate", action="store_true", help="quality on the tuned half with each post-processing step off (no timing)"
    )
    args = parser.parse_args(argv)

    tests = unpack(args.archive, args.cache)
    pages = load_pages(tests)[: args.limit]
    if args.ablate:
        return ablate(pages, tests)
    evaluate(pages[:40], tests)  # warm-up: imports, model loads, regex caches out of the timings
    figures = summary(evaluate(pages, tests, args.repeat))
    print(f"{len(pages)} real pages; split by sha1(file name): tuned / held-out")
    print(
        f"{'split':9} {'extractor':10} {'pages':>5} {'P':>6} {'R':>6} {'F1':>6} {'fail':>4} {'ms/page':>8} {'ratio':>6}"
    )
    for split in ("held-out", "tuned", "all"):
        for name in ("plain", "newsdrift"):
            f = figures[split][name]
            ratio = f"{figures[split]['cost_ratio']:6.2f}" if name == "newsdrift" else ""
            print(
                f"{split:9} {name:10} {f['pages']:5d} {f['precision']:6.3f} {f['recall']:6.3f} {f['f1']:6.3f} "
                f"{f['failures']:4d} {f['ms_per_page']:8.1f} {ratio:>6}"
            )
    slow = figures["all"]["newsdrift"]["slowest"]
    print("slowest pages (newsdrift, ms):", ", ".join(f"{name} {ms}" for ms, name in slow))
    if args.json:
        args.json.write_text(json.dumps({"pages": len(pages), "figures": figures}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
