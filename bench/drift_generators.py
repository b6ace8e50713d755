"""Drift detection on streams from four generators of different character, tuned on some, reported on the others.

    PYTHONPATH=. python bench/drift_generators.py [--seeds 3] [--extra-tuning-seeds 6] [--timeline both]
        [--json out.json] [--no-sweep] [--false-alarm-rate R] [--null N]

Generators (each gives stable, abrupt and gradual streams of one-day windows). Two timelines
(``--timeline``): 40 days, the change on day 25 (abrupt) or ramping over days 20-30 with its midpoint on
day 25 (gradual); and 20 days (rows ``<generator>/20d``), the change on day 10 or ramping over days 7-13,
the hardest shape for the reference: the abrupt change comes in the first window after the 10-window
reference, and the gradual one starts inside it.

* ``frames``   - the hand-written sentence banks of tests/data/drift (5-22 articles a day, ~150 words,
                 the two seed essays as baseline). Tuning generator.
* ``longform`` - 3-8 long articles a day (400-1,200 words) over a synthetic Zipf vocabulary, frame
                 phrases taken from config/frames.yaml; a 2-5 document baseline. Tuning generator.
* ``wire``     - 50-300 short briefs a day (40-90 words) over another vocabulary; a 30-50 document
                 baseline; a different frame shift. Held out.
* ``realpages``- real article text (the trafilatura evaluation pages, extracted once and cached) with a
                 planted shift: after it, articles come from the pages richest in one frame's phrases
                 (a change in what gets covered, in real words); a 5-20 page baseline. Held out.

Seeds below ``--seeds`` are the tuning seeds of the tuning generators; every held-out row uses other
seeds. ``--extra-tuning-seeds`` adds more seeds of the tuning generators (after the held-out ones) as
``tuned+`` rows: more stable windows to see a false event on while tuning, still no held-out data. The
sweep runs on the tuning rows only (the stated rate, the joint rules' share and spans, the jump share);
the defaults were picked from it (no false event on the ``tuned`` rows, then the fewest on ``tuned+``,
and no false event on ``bench/drift_quality.py``; then the smallest worst and mean
abrupt + gradual delay) and are then run on everything.
A false event is any event fired before the change begins (or on a stable stream); "stable windows"
counts the windows watched after the reference period and before any change. ``--null N`` adds N stable
40-day streams of every generator on fresh seeds, enough windows to set the false events per window next to
the stated rate (``bench/drift_calibration.py`` does the same on simulated day mixes at several rates).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from newsdrift.score.drift.events import detect_events
from newsdrift.score.drift.scoring import DriftScorer
from newsdrift.score.drift.settings import DriftConfig
from newsdrift.score.drift.windows import WindowRecord, compute_windows
from newsdrift.score.frames import FrameSet, load_frames

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2025, 1, 6, tzinfo=UTC)


@dataclass(frozen=True)
class Timeline:
    """How long a stream runs and when its change comes."""

    name: str
    days: int
    shift_day: int  # abrupt change; the gradual ramp's midpoint
    ramp: tuple[int, int]  # gradual: the share of changed articles rises linearly over these days


LONG = Timeline("40d", 40, 25, (20, 30))
SHORT = Timeline("20d", 20, 10, (7, 13))  # the change right after the reference
TIMELINES = {"long": (LONG,), "short": (SHORT,), "both": (LONG, SHORT)}
TEXTS_CACHE = ROOT / ".cache" / "realpages-texts.json"


# --------------------------------------------------------------------------- generators


def _dirichlet(rng: random.Random, mean: dict[str, float], concentration: float) -> dict[str, float]:
    draws = {k: rng.gammavariate(max(v * concentration, 1e-3), 1.0) for k, v in mean.items()}
    whole = sum(draws.values())
    return {k: v / whole for k, v in draws.items()}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _shifted(kind: str, day: int, rng: random.Random, timeline: Timeline) -> bool:
    """Does this article come from the changed regime?"""
    if kind == "abrupt":
        return day >= timeline.shift_day
    if kind == "gradual":
        lo, hi = timeline.ramp
        return rng.random() < min(1.0, max(0.0, (day - lo) / (hi - lo)))
    return False


@dataclass
class Stream:
    generator: str
    kind: str  # stable | abrupt | gradual
    seed: int
    baseline: list[str]
    articles: list[dict[str, Any]] = field(default_factory=list)
    timeline: Timeline = LONG


class Vocabulary:
    """A synthetic Zipf vocabulary of pronounceable words, plus frame phrases from the frames file."""

    def __init__(self, seed: int, size: int) -> None:
        rng = random.Random(seed)
        syll = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
        words: set[str] = set()
        while len(words) < size:
            words.add("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))))
        self.words = sorted(words)
        rng.shuffle(self.words)
        self.weights = [1.0 / (i + 1) for i in range(size)]
        data = yaml.safe_load((ROOT / "config" / "frames.yaml").read_text(encoding="utf-8"))
        self.phrases = {
            name: [t.replace("*", rng.choice(["", "s", "ed", "ing"])) for t in spec["terms"]]
            for name, spec in data["frames"].items()
        }

    def sentence(self, rng: random.Random, frame: str | None, length: int) -> str:
        words = rng.choices(self.words, weights=self.weights, k=length)
        if frame:
            for _ in range(rng.randint(1, 2)):
                words.insert(rng.randrange(len(words) + 1), rng.choice(self.phrases[frame]))
        return " ".join(words).capitalize() + "."


FRAMES = ("openness_transparency", "safety_misuse", "geopolitics_security", "cost_efficiency")
FRAMES += ("competition_closed_models", "regulation", "innovation_ecosystem")


def _mix(**weights: float) -> dict[str, float]:
    base = dict.fromkeys(FRAMES, 0.05)
    base.update(weights)
    whole = sum(base.values())
    return {k: v / whole for k, v in base.items()}


def gen_frames(kind: str, seed: int, timeline: Timeline = LONG) -> Stream:
    spec = importlib.util.spec_from_file_location("gs", ROOT / "tests" / "data" / "drift" / "generate_streams.py")
    assert spec and spec.loader
    gs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gs)
    rng = random.Random(seed)
    baseline = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))]
    stream = Stream("frames", kind, seed, baseline, timeline=timeline)
    for day in range(timeline.days):
        weekend = (START + timedelta(days=day)).weekday() >= 5
        count = rng.randint(5, 9) if weekend else rng.randint(14, 22)
        normal = gs._dirichlet(rng, gs.NORMAL_MIX, 40.0)
        changed = gs._dirichlet(rng, gs.SHIFTED_MIX, 40.0)
        for i in range(count):
            after = _shifted(kind, day, rng, timeline)
            a = gs._article(rng, "g", day, i, changed if after else normal, "shifted" if after else "normal")
            a["published_at"] = (START + timedelta(days=day, hours=6 + i % 16)).isoformat()
            stream.articles.append(a)
    return stream


def _synthetic(
    name: str,
    kind: str,
    seed: int,
    *,
    vocab_seed: int,
    per_day: Callable[[random.Random, int], int],
    sentences: tuple[int, int],
    sentence_len: tuple[int, int],
    frame_rate: float,
    baseline_docs: tuple[int, int],
    normal: dict[str, float],
    changed: dict[str, float],
    baseline_mix: dict[str, float],
    timeline: Timeline = LONG,
) -> Stream:
    vocab = Vocabulary(vocab_seed, 3000)
    rng = random.Random(seed)

    def article(mix: dict[str, float]) -> str:
        own = _dirichlet(rng, mix, 6.0)
        out = []
        for _ in range(rng.randint(*sentences)):
            frame = _pick(rng, own) if rng.random() < frame_rate else None
            out.append(vocab.sentence(rng, frame, rng.randint(*sentence_len)))
        return "\n\n".join(" ".join(out[i : i + 4]) for i in range(0, len(out), 4))

    baseline = [article(baseline_mix) for _ in range(rng.randint(*baseline_docs))]
    stream = Stream(name, kind, seed, baseline, timeline=timeline)
    for day in range(timeline.days):
        day_normal, day_changed = _dirichlet(rng, normal, 40.0), _dirichlet(rng, changed, 40.0)
        n = per_day(rng, day)
        for i in range(n):
            text = article(day_changed if _shifted(kind, day, rng, timeline) else day_normal)
            when = START + timedelta(days=day, seconds=int(86_399 * (i + 0.5) / n))
            stream.articles.append({"article_id": f"{name}-{day}-{i}", "title": "", "published_at": when, "text": text})
    return stream


def gen_longform(kind: str, seed: int, timeline: Timeline = LONG) -> Stream:
    return _synthetic(
        "longform",
        kind,
        seed,
        vocab_seed=11,
        per_day=lambda rng, day: rng.randint(3, 8),
        sentences=(25, 70),
        sentence_len=(12, 22),
        frame_rate=0.3,
        baseline_docs=(2, 5),
        normal=_mix(openness_transparency=0.35, innovation_ecosystem=0.25, cost_efficiency=0.15),
        changed=_mix(regulation=0.35, geopolitics_security=0.25, openness_transparency=0.15),
        baseline_mix=_mix(openness_transparency=0.5),
        timeline=timeline,
    )


def gen_wire(kind: str, seed: int, timeline: Timeline = LONG) -> Stream:
    def per_day(rng: random.Random, day: int) -> int:
        weekend = (START + timedelta(days=day)).weekday() >= 5
        return rng.randint(50, 90) if weekend else rng.randint(150, 300)

    return _synthetic(
        "wire",
        kind,
        seed,
        vocab_seed=97,
        per_day=per_day,
        sentences=(3, 6),
        sentence_len=(8, 16),
        frame_rate=0.5,
        baseline_docs=(30, 50),
        normal=_mix(competition_closed_models=0.3, safety_misuse=0.2, openness_transparency=0.2),
        changed=_mix(cost_efficiency=0.3, competition_closed_models=0.3, openness_transparency=0.08),
        baseline_mix=_mix(innovation_ecosystem=0.5),
        timeline=timeline,
    )


_REAL: dict[str, Any] = {}


def _real_pool(frames: FrameSet) -> dict[str, Any]:
    """Real texts (cached extraction), ranked by their share of the regulation frame."""
    if not _REAL:
        if not TEXTS_CACHE.exists():
            _extract_real_texts()
        texts = list(json.loads(TEXTS_CACHE.read_text(encoding="utf-8")).items())
        texts.sort()
        scored = []
        for name, text in texts:
            scores = frames.score(text)[1]
            total = sum(scores.values())
            scored.append((scores.get("regulation", 0.0) / total if total else 0.0, name, text))
        rich = [t for s, _, t in scored if s >= 0.3]
        _REAL.update(all=[t for _, _, t in scored], rich=rich)
    return _REAL


def _extract_real_texts() -> None:
    """Extract the real pages' text once (trafilatura) into .cache/realpages-texts.json."""
    import trafilatura

    sys.path.insert(0, str(ROOT / "bench"))
    import extraction_realpages as er

    out = {}
    for page in er.load_pages(er.unpack()):
        text = trafilatura.extract(page.raw.decode("utf-8", "replace"), include_comments=False)
        if text and len(text.split()) >= 80:
            out[page.filename] = text
    TEXTS_CACHE.parent.mkdir(parents=True, exist_ok=True)
    TEXTS_CACHE.write_text(json.dumps(out), encoding="utf-8")


def gen_realpages(kind: str, seed: int, timeline: Timeline = LONG, frames: FrameSet | None = None) -> Stream:
    pool = _real_pool(frames or load_frames())
    rng = random.Random(seed)
    texts = list(pool["all"])
    rng.shuffle(texts)
    n_base = rng.randint(5, 20)
    baseline, normal = texts[:n_base], texts[n_base:]
    rich = pool["rich"]
    stream = Stream("realpages", kind, seed, baseline, timeline=timeline)
    for day in range(timeline.days):
        n = rng.randint(8, 20)
        for i in range(n):
            text = rng.choice(rich if _shifted(kind, day, rng, timeline) else normal)
            when = START + timedelta(days=day, seconds=int(86_399 * (i + 0.5) / n))
            stream.articles.append({"article_id": f"r-{day}-{i}", "title": "", "published_at": when, "text": text})
    return stream


GENERATORS: dict[str, Callable[[str, int, Timeline], Stream]] = {
    "frames": gen_frames,
    "longform": gen_longform,
    "wire": gen_wire,
    "realpages": gen_realpages,
}
TUNING = ("frames", "longform")


# --------------------------------------------------------------------------- evaluation


@dataclass
class Row:
    stable_windows: int = 0
    false_events: int = 0
    abrupt: list[int | None] = field(default_factory=list)  # windows after the shift window (0 = that window)
    gradual: list[int | None] = field(default_factory=list)  # windows after the midpoint window

    def add(self, other: Row) -> None:
        self.stable_windows += other.stable_windows
        self.false_events += other.false_events
        self.abrupt += other.abrupt
        self.gradual += other.gradual


def evaluate(stream: Stream, windows: list[WindowRecord], config: DriftConfig) -> Row:
    events = detect_events(windows, config)
    day = {w.window_start: (w.window_start - START).days for w in windows}
    tl = stream.timeline
    onset = {"stable": tl.days + 1, "abrupt": tl.shift_day, "gradual": tl.ramp[0]}[stream.kind]
    fired = sorted(day[e.fired_window_start] for e in events)
    row = Row()
    row.stable_windows = sum(1 for w in windows[config.reference_windows :] if day[w.window_start] < onset)
    row.false_events = sum(1 for d in fired if d < onset)
    after = [d for d in fired if d >= onset]
    if stream.kind == "abrupt":
        row.abrupt.append(after[0] - tl.shift_day if after else None)
    elif stream.kind == "gradual":
        row.gradual.append(after[0] - tl.shift_day if after else None)
    return row


def _delays(values: list[int | None]) -> str:
    got = [v for v in values if v is not None]
    if not values:
        return "-"
    miss = len(values) - len(got)
    if not got:
        return "all missed"
    return f"max {max(got)} mean {statistics.mean(got):.1f}" + (f" miss {miss}" if miss else "")


def table(rows: dict[tuple[str, str], Row]) -> str:
    head = f"{'generator':10s} {'split':9s} {'stable windows':>14s} {'false events':>12s}  "
    head += f"{'abrupt: windows late':22s} gradual: windows after midpoint"
    lines = [head, "-" * len(head)]
    for (gen, split), r in rows.items():
        lines.append(
            f"{gen:10s} {split:9s} {r.stable_windows:14d} {r.false_events:12d}  {_delays(r.abrupt):22s} "
            f"{_delays(r.gradual)}"
        )
    return "\n".join(lines)


def null_rates(count: int, frames: FrameSet, config: DriftConfig) -> None:
    """False events per window on ``count`` fresh stable streams of every generator (seeds no other row uses):
    enough windows to check the stated rate, which the rows above (about 1,000 stable windows) cannot."""
    print(f"\nstable streams only ({count} per generator, 40 days, fresh seeds): false events per window")
    for gen, make in GENERATORS.items():
        t0 = time.perf_counter()
        total = Row()
        for s in range(count):
            stream = make("stable", 500_009 + 7919 * s)
            scorer = DriftScorer(stream.baseline, frames, baseline_id=f"null-{gen}-{s}")
            total.add(evaluate(stream, compute_windows(stream.articles, scorer, "1d", config), config))
        rate = total.false_events / max(total.stable_windows, 1)
        print(
            f"  {gen:10s} {total.false_events:3d} false events in {total.stable_windows:5d} stable windows: "
            f"{rate:.4f}/window, {rate / config.false_alarm_rate:.2f} x the stated {config.false_alarm_rate} "
            f"({time.perf_counter() - t0:.0f} s)"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="tuning seeds per tuning generator (held out: as many again)")
    ap.add_argument(
        "--extra-tuning-seeds", type=int, default=0, help="more tuning-generator seeds, reported as tuned+ rows"
    )
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument(
        "--timeline",
        choices=sorted(TIMELINES),
        default="both",
        help="40-day streams (change on day 25), 20-day streams (change on day 10, right after the reference), or both",
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--false-alarm-rate", type=float, help="another stated rate (default: DriftConfig's)")
    ap.add_argument(
        "--null",
        type=int,
        default=0,
        metavar="N",
        help="also N fresh stable 40-day streams per generator: false events per window next to the stated rate",
    )
    args = ap.parse_args(argv)
    frames = load_frames()
    defaults = DriftConfig()
    if args.false_alarm_rate:
        defaults = defaults.model_copy(update={"false_alarm_rate": args.false_alarm_rate})

    t0 = time.perf_counter()
    cells: list[tuple[str, str, Stream, list[WindowRecord]]] = []
    for timeline in TIMELINES[args.timeline]:
        offset = 0 if timeline == LONG else 100_003  # other seeds for the short streams
        for gen, make in GENERATORS.items():
            label = gen if timeline == LONG else f"{gen}/{timeline.name}"
            extra = range(2 * args.seeds, 2 * args.seeds + args.extra_tuning_seeds) if gen in TUNING else range(0)
            for s in [*range(2 * args.seeds), *extra]:
                split = "tuned" if gen in TUNING and s < args.seeds else "held-out"
                split = "tuned+" if s >= 2 * args.seeds else split
                for kind in ("stable", "abrupt", "gradual"):
                    stream = make(kind, offset + 7919 * s + {"stable": 1, "abrupt": 2, "gradual": 3}[kind], timeline)
                    scorer = DriftScorer(stream.baseline, frames, baseline_id=f"{label}-{s}")
                    windows = compute_windows(stream.articles, scorer, "1d", defaults)
                    cells.append((label, split, stream, windows))
    labels = list(dict.fromkeys(c[0] for c in cells))
    sizes = {gen: [len(c[2].articles) / c[2].timeline.days for c in cells if c[0] == gen] for gen in labels}
    print(f"{len(cells)} streams of daily windows built and windowed in {time.perf_counter() - t0:.0f} s")
    for gen, per in sizes.items():
        base = [len(c[2].baseline) for c in cells if c[0] == gen]
        words = [len(a["text"].split()) for c in cells if c[0] == gen for a in c[2].articles[:50]]
        days = [w.article_count for c in cells if c[0] == gen for w in c[3]]
        print(
            f"  {gen:10s} articles/day: mean {min(per):.0f}-{max(per):.0f} a stream, {min(days)}-{max(days)} a day; "
            f"baseline docs {min(base)}-{max(base)}; words/article ~{statistics.median(words):.0f}"
        )

    def run(config: DriftConfig, only: tuple[str, ...] = ()) -> dict[tuple[str, str], Row]:
        rows: dict[tuple[str, str], Row] = {}
        for gen, split, stream, windows in cells:
            if only and split not in only:
                continue
            rows.setdefault((gen, split), Row()).add(evaluate(stream, windows, config))
        return rows

    if not args.no_sweep:
        print("\nsweep on the tuning rows (frames, longform; tuning seeds; tuned+ false events in brackets):")
        grid = {
            "false_alarm_rate": (0.002, 0.001, 0.0005),
            "joint_share": (0.0, 0.3, 0.6, 0.75),
            "joint_windows": ((1, 2, 4), (1, 2, 3, 5), (1, 3, 5)),
            "jump_share": (0.1, 0.2),
        }
        for values in itertools.product(*grid.values()):
            update = dict(zip(grid, values, strict=True))
            if update["joint_share"] == 0.0 and update["joint_windows"] != (1, 2, 3, 5):
                continue  # the spans do not matter without the joint rules
            cfg = defaults.model_copy(update=update)
            total, more = Row(), Row()
            for (_, sp), r in run(cfg, ("tuned", "tuned+")).items():
                (total if sp == "tuned" else more).add(r)
            label = " ".join(f"{k} {v!s:<12}" for k, v in update.items())
            print(
                f"  {label} false {total.false_events:3d}/{total.stable_windows} "
                f"({more.false_events}/{more.stable_windows})  abrupt {_delays(total.abrupt):22s} "
                f"gradual {_delays(total.gradual)} (tuned+ abrupt {_delays(more.abrupt)}, "
                f"gradual {_delays(more.gradual)})"
            )

    shown = ("false_alarm_rate", "cusum_k", "gradual_k", "jump_share", "reference_windows", "reference_lag")
    shown += ("reference_articles", "reference_max_windows", "min_overdispersion", "max_step", "min_articles")
    shown += ("min_article_var", "joint_share", "joint_windows")
    print(f"\nchosen (the defaults, or --false-alarm-rate): {defaults.model_dump(include=set(shown))}")
    rows = run(defaults)
    print(table(rows))
    for tl, split in itertools.product(TIMELINES[args.timeline], ("tuned", "tuned+", "held-out")):
        mine = {k: r for k, r in rows.items() if k[1] == split and k[0].endswith("/20d") == (tl == SHORT)}
        if not mine:
            continue
        total = Row()
        for r in mine.values():
            total.add(r)
        rate = total.false_events / max(total.stable_windows, 1)
        print(
            f"  {tl.name} {split:9s} all: {total.false_events} false events in {total.stable_windows} stable windows "
            f"({rate:.4f}/window, stated {defaults.false_alarm_rate}); abrupt {_delays(total.abrupt)}; "
            f"gradual {_delays(total.gradual)}"
        )
    if args.null:
        null_rates(args.null, frames, defaults)
    series = next(c[3] for c in cells if c[0].startswith("wire") and c[2].kind == "stable")
    year = (series * 10)[:365]  # a year of busy daily windows (8 statistics): what a drift pass replays
    t0 = time.process_time()
    for _ in range(3):
        detect_events(year, defaults)
    print(f"  detect_events on a 365-window series: {(time.process_time() - t0) / 3 * 1000:.0f} ms CPU")
    if args.json:
        out = {
            f"{g}/{sp}": {
                "stable_windows": r.stable_windows,
                "false_events": r.false_events,
                "abrupt_late": r.abrupt,
                "gradual_after_midpoint": r.gradual,
            }
            for (g, sp), r in rows.items()
        }
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
