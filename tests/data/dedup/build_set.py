"""Build the labelled near-duplicate set from the hand-written base articles.

Deterministic: re-running rewrites ``documents.jsonl`` and ``pairs.jsonl``
byte for byte. Positives are (original, copy) pairs where the copy went
through what syndication does to a story (outlet boilerplate, a new headline,
trimmed or reordered paragraphs, synonyms, a few rewritten sentences); hard
negatives are two different stories on the same topic dressed in the same
outlet template.

    python tests/data/dedup/build_set.py
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
# Named, not globbed: a seed added to baseline/ later must not change this set.
SEEDS = ("000_115c7577b75f2486.txt", "004_8c1181051bfd7228.txt")


@dataclass(frozen=True)
class Base:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    rewrites: tuple[tuple[str, str], ...]

    @property
    def is_brief(self) -> bool:
        return len(self.paragraphs) <= 3


@dataclass(frozen=True)
class Outlet:
    name: str
    header: tuple[str, ...]
    footer: tuple[str, ...]
    inline: str | None  # a "Read more" line dropped between paragraphs
    title_in_body: bool  # the extractor kept the headline as the first line


OUTLETS: tuple[Outlet, ...] = (
    Outlet(
        "bytewire",
        ("ByteWire", "Technology | Artificial Intelligence", "By ByteWire Staff", "Published 9:14 AM ET"),
        (
            "Sign up for the ByteWire AI newsletter to get the biggest stories in your inbox every morning.",
            "Share this article",
            "Copyright 2025 ByteWire Media Group. All rights reserved.",
        ),
        "Read more: The week in AI policy, explained",
        False,
    ),
    Outlet(
        "circuit-ledger",
        ("The Circuit Ledger", "Home > Tech > AI"),
        (
            "Read more: Inside the race to build cheaper AI chips",
            "Read more: What the open-source label really means",
            "This story was originally published by a partner outlet and has been edited for length.",
            "Comments are closed for this article.",
        ),
        None,
        True,
    ),
    Outlet(
        "northgate",
        ("NORTHGATE TRIBUNE", "Business Desk", "Listen to this article · 4 min"),
        (
            "Have a news tip? Contact our technology desk securely.",
            "More from Northgate Tribune Business",
            "© Northgate Tribune 2025",
        ),
        "Related: Start-ups weigh the cost of running their own models",
        False,
    ),
    Outlet(
        "daily-compute",
        ("Daily Compute", "Advertisement"),
        (
            "Advertisement",
            "Follow Daily Compute for more coverage of artificial intelligence, cloud and software.",
            "Read more: Five things to know about the AI Act",
        ),
        None,
        True,
    ),
    Outlet(
        "signal-noise",
        ("Signal & Noise Weekly", "AI Policy"),
        (
            "Subscribe to Signal & Noise Weekly for independent reporting on technology policy.",
            "Tags: artificial intelligence, open source, regulation",
        ),
        "Also read: Why chip export controls matter for AI",
        False,
    ),
)

# Light copy-editing: a sub-editor's word swaps, applied to a fraction of hits.
SYNONYMS: dict[str, str] = {
    "said": "stated",
    "says": "states",
    "company": "firm",
    "companies": "firms",
    "released": "launched",
    "release": "launch",
    "large": "big",
    "largest": "biggest",
    "critics": "detractors",
    "argue": "contend",
    "argued": "contended",
    "developers": "programmers",
    "however": "but",
    "also": "additionally",
    "researchers": "scientists",
    "several": "a number of",
    "many": "numerous",
    "help": "assist",
    "helps": "assists",
    "use": "usage",
    "allows": "lets",
    "require": "oblige",
    "requires": "obliges",
    "risks": "dangers",
    "public": "publicly available",
    "business": "commercial",
    "businesses": "firms",
    "customers": "clients",
    "small": "little",
    "smaller": "more compact",
    "cheaper": "less expensive",
    "cost": "price",
    "costs": "expenses",
    "fast": "quick",
    "faster": "quicker",
    "new": "fresh",
    "now": "currently",
    "often": "frequently",
    "enough": "sufficient",
    "growing": "increasing",
    "group": "team",
    "law": "legislation",
    "rules": "regulations",
    "weights": "parameters",
    "question": "issue",
    "debate": "argument",
    "capable": "powerful",
    "system": "platform",
    "systems": "platforms",
    "noted": "observed",
    "expect": "anticipate",
    "important": "significant",
}

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def parse_base(path: Path) -> Base:
    """Parse ``title: ...`` / ``---`` / paragraphs / ``=== rewrites`` files."""
    raw = path.read_text(encoding="utf-8")
    head, _, rest = raw.partition("\n---\n")
    title = head.removeprefix("title:").strip()
    body, _, rewrites_raw = rest.partition("=== rewrites\n")
    paragraphs = tuple(p.strip() for p in body.split("\n\n") if p.strip())
    rewrites: list[tuple[str, str]] = []
    lines = [ln for ln in rewrites_raw.splitlines() if ln.strip()]
    for src, dst in zip(lines[::2], lines[1::2], strict=True):
        if not dst.startswith(">>> "):
            raise ValueError(f"{path.name}: rewrite target must start with '>>> '")
        if src not in body:
            raise ValueError(f"{path.name}: rewrite source not in text: {src!r}")
        rewrites.append((src, dst.removeprefix(">>> ")))
    return Base(path.stem, title, paragraphs, tuple(rewrites))


def parse_seed(path: Path) -> Base:
    """A baseline seed document: one paragraph per line, headline from the first sentence."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    title = " ".join(lines[0].split()[:12])
    return Base(f"seed_{path.stem}", title, tuple(lines), ())


def load_bases() -> list[Base]:
    bases = [parse_base(p) for p in sorted((HERE / "base").glob("*.txt"))]
    bases += [parse_seed(REPO / "baseline" / name) for name in SEEDS]
    return bases


def synonymise(text: str, rate: float, rng: random.Random) -> str:
    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        repl = SYNONYMS.get(word.lower())
        if repl is None or rng.random() >= rate:
            return word
        return repl.capitalize() if word[0].isupper() else repl

    return WORD.sub(swap, text)


def rewrite(paragraphs: list[str], pairs: tuple[tuple[str, str], ...]) -> list[str]:
    out = paragraphs
    for src, dst in pairs:
        out = [p.replace(src, dst) for p in out]
    return out


def trim(paragraphs: list[str], n: int, rng: random.Random) -> list[str]:
    """Drop n paragraphs, never the lede: editors cut from the body and the tail."""
    out = list(paragraphs)
    for _ in range(n):
        if len(out) <= 2:
            break
        del out[rng.randrange(1, len(out))]
    return out


def reorder(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Swap two adjacent body paragraphs."""
    out = list(paragraphs)
    if len(out) >= 4:
        i = rng.randrange(1, len(out) - 2)
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def new_headline(title: str, rng: random.Random) -> str:
    prefix = rng.choice(("Analysis: ", "Explainer: ", "", "Update: "))
    return prefix + synonymise(title, 0.6, rng)


def render(paragraphs: list[str], outlet: Outlet | None, headline: str, rng: random.Random) -> str:
    if outlet is None:
        return "\n\n".join(paragraphs)
    body = list(paragraphs)
    if outlet.inline and len(body) >= 3:
        body.insert(rng.randrange(2, len(body)), outlet.inline)
    if outlet.title_in_body:
        body.insert(0, headline)
    return "\n\n".join([*outlet.header, *body, *outlet.footer])


def variants(base: Base, index: int) -> list[dict[str, str]]:
    """The original plus two or three syndicated copies of one base article."""
    rng = random.Random(f"variants:{base.slug}")
    paras = list(base.paragraphs)
    rw = base.rewrites
    docs = [{"variant": "orig", "outlet": "", "title": base.title, "text": "\n\n".join(paras)}]

    o1 = OUTLETS[index % len(OUTLETS)]
    h1 = new_headline(base.title, rng)
    p1 = [synonymise(p, 0.15, rng) for p in rewrite(paras, rw[:1])]
    docs.append({"variant": "v1", "outlet": o1.name, "title": h1, "text": render(p1, o1, h1, rng)})

    o2 = OUTLETS[(index + 2) % len(OUTLETS)]
    h2 = new_headline(base.title, rng)
    p2 = trim(rewrite(paras, rw[1:2]), 0 if base.is_brief else 1, rng)
    p2 = [synonymise(p, 0.1, rng) for p in reorder(p2, rng)]
    docs.append({"variant": "v2", "outlet": o2.name, "title": h2, "text": render(p2, o2, h2, rng)})

    if not base.is_brief:
        o3 = OUTLETS[(index + 4) % len(OUTLETS)]
        h3 = new_headline(base.title, rng)
        p3 = reorder(trim(rewrite(paras, rw), 2, rng), rng)
        p3 = [synonymise(p, 0.25, rng) for p in p3]
        docs.append({"variant": "v3", "outlet": o3.name, "title": h3, "text": render(p3, o3, h3, rng)})
    for d in docs:
        d["id"] = f"{base.slug}:{d['variant']}"
        d["base"] = base.slug
    return docs


def negative_doc(base: Base, outlet: Outlet) -> dict[str, str]:
    """A base story, lightly copy-edited, in a given outlet's template."""
    rng = random.Random(f"neg:{base.slug}:{outlet.name}")
    paras = [synonymise(p, 0.05, rng) for p in base.paragraphs]
    return {
        "id": f"{base.slug}:neg:{outlet.name}",
        "base": base.slug,
        "variant": "neg",
        "outlet": outlet.name,
        "title": base.title,
        "text": render(paras, outlet, base.title, rng),
    }


def build() -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    bases = load_bases()
    docs: dict[str, dict[str, str]] = {}
    pairs: list[dict[str, object]] = []
    for i, base in enumerate(bases):
        vs = {d["variant"]: d for d in variants(base, i)}
        docs.update({d["id"]: d for d in vs.values()})
        labelled = [("orig", "v1"), ("orig", "v2"), ("v1", "v2")]
        if "v3" in vs:
            labelled.append(("orig", "v3"))
        for a, b in labelled:
            pairs.append({"a": vs[a]["id"], "b": vs[b]["id"], "label": 1, "kind": f"{a}-{b}"})
    for i, a in enumerate(bases):
        for j in range(i + 1, len(bases)):
            b = bases[j]
            outlet = OUTLETS[(i + j) % len(OUTLETS)]
            da, db = negative_doc(a, outlet), negative_doc(b, outlet)
            docs.setdefault(da["id"], da)
            docs.setdefault(db["id"], db)
            kind = "brief-brief" if a.is_brief and b.is_brief else "same-outlet"
            pairs.append({"a": da["id"], "b": db["id"], "label": 0, "kind": kind})
    return sorted(docs.values(), key=lambda d: d["id"]), pairs


def write_jsonl(path: Path, rows: list[dict[str, object]] | list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def main() -> None:
    docs, pairs = build()
    write_jsonl(HERE / "documents.jsonl", docs)
    write_jsonl(HERE / "pairs.jsonl", pairs)
    pos = sum(1 for p in pairs if p["label"] == 1)
    print(f"{len(docs)} documents, {pos} positive pairs, {len(pairs) - pos} hard-negative pairs")


if __name__ == "__main__":
    main()
