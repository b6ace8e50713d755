"""Baselines: named, versioned reference corpora that drift is measured against.

``load`` turns files (``.txt``, ``.html``) or URLs into baseline documents and
indexes them under ``<name>-v<N>``. Loading the same documents again is a
no-op that returns the existing id; different documents make a new version,
so history computed against an old baseline is never overwritten.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.errors import NewsdriftError
from newsdrift.records import Failure, FeedEntry, stable_id
from newsdrift.score.dedup.minhash import fingerprint
from newsdrift.score.dedup.settings import DedupConfig
from newsdrift.score.frames import FrameSet, load_frames
from newsdrift.settings import Settings
from newsdrift.store.bulk import bulk_write, write_actions
from newsdrift.store.names import IndexNames


@dataclass
class BaselineDocument:
    name: str  # file name or URL: the document's identity inside a baseline
    title: str
    text: str
    origin: str  # path or URL it came from
    language: str | None = None


@dataclass
class BaselineLoad:
    baseline_id: str
    version: int
    created: bool
    documents: int
    failures: list[Failure]


def _title_of(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 160 else first[:157].rsplit(" ", 1)[0] + "..."


def _from_file(path: Path, settings: Settings) -> BaselineDocument:
    raw = path.read_bytes()
    if path.suffix.lower() in (".html", ".htm"):
        import trafilatura

        doc = trafilatura.bare_extraction(raw.decode("utf-8", errors="replace"), with_metadata=True)
        text = (getattr(doc, "text", None) or "").strip()
        if not text:
            raise NewsdriftError(f"{path}: no article text could be extracted")
        return BaselineDocument(
            path.name, getattr(doc, "title", None) or _title_of(text), text, str(path), getattr(doc, "language", None)
        )
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        raise NewsdriftError(f"{path}: empty document")
    return BaselineDocument(path.name, _title_of(text), text, str(path), "en")


async def _from_urls(urls: list[str], settings: Settings) -> tuple[list[BaselineDocument], list[Failure]]:
    from extractors.article import extract_article
    from newsdrift.fetch.fetcher import PoliteFetcher

    docs, failures = [], []
    async with PoliteFetcher(settings) as fetcher:
        for url in urls:
            entry = FeedEntry(feed_url="", feed_name="baseline", source="baseline", link=url)
            page = await fetcher.fetch(entry)
            result = page if isinstance(page, Failure) else extract_article(page, settings)
            if isinstance(result, Failure):
                failures.append(result)
            else:
                docs.append(BaselineDocument(url, result.title, result.text, url, result.language))
    return docs, failures


def read_documents(sources: list[str], settings: Settings) -> tuple[list[BaselineDocument], list[Failure]]:
    """Documents from files, folders (their .txt/.html files) and http(s) URLs."""
    docs: list[BaselineDocument] = []
    failures: list[Failure] = []
    urls = [s for s in sources if s.startswith(("http://", "https://"))]
    for source in sources:
        if source in urls:
            continue
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".txt", ".html", ".htm"))
        elif path.is_file():
            files = [path]
        else:
            failures.append(Failure(f"baseline:{source}", "no such file or folder"))
            continue
        for f in files:
            try:
                docs.append(_from_file(f, settings))
            except (OSError, NewsdriftError) as exc:
                failures.append(Failure(f"baseline:{f}", str(exc)))
    if urls:
        fetched, url_failures = asyncio.run(_from_urls(urls, settings))
        docs += fetched
        failures += url_failures
    return docs, failures


def _versions(client: OpenSearch, names: IndexNames, name: str) -> dict[int, set[str]]:
    """content_sha1 sets of every stored version of a baseline name."""
    resp = client.search(
        index=names.baseline,
        body={
            "size": 1000,
            "query": {"term": {"baseline_name": name}},
            "_source": ["baseline_version", "content_sha1"],
        },
    )
    versions: dict[int, set[str]] = {}
    for hit in resp["hits"]["hits"]:
        src = hit["_source"]
        versions.setdefault(int(src["baseline_version"]), set()).add(src["content_sha1"])
    return versions


def load(
    client: OpenSearch,
    names: IndexNames,
    docs: list[BaselineDocument],
    *,
    name: str = "seed",
    frames: FrameSet | None = None,
    dedup: DedupConfig | None = None,
    version: int | None = None,
) -> BaselineLoad:
    """Index ``docs`` as a new version of ``name`` unless an identical version exists.

    ``version`` writes that version number (the shipped default loads as v1): document ids are
    stable and written with ``create``, so two processes loading it at once write it once.
    """
    if not docs:
        raise NewsdriftError("a baseline needs at least one document")
    dedup = dedup or DedupConfig()
    prints = [fingerprint(d.text, dedup) for d in docs]
    wanted = {p.content_sha1 for p in prints}
    versions = _versions(client, names, name)
    for existing, hashes in sorted(versions.items()):
        if hashes == wanted:
            return BaselineLoad(f"{name}-v{existing}", existing, False, len(docs), [])
    if version is None:
        version = max(versions, default=0) + 1
    baseline_id = f"{name}-v{version}"
    loaded_at = datetime.now(UTC).isoformat()
    rows = []
    for doc, fp in zip(docs, prints, strict=True):
        doc_frames, frame_scores = frames.score(doc.text) if frames else ([], {})
        doc_id = stable_id(baseline_id, doc.name)
        rows.append(
            (
                doc_id,
                {
                    "doc_id": doc_id,
                    "baseline_id": baseline_id,
                    "baseline_name": name,
                    "baseline_version": version,
                    "source_path": doc.origin,
                    "url": doc.origin if doc.origin.startswith("http") else None,
                    "title": doc.title,
                    "text": doc.text,
                    "language": doc.language,
                    "word_count": len(doc.text.split()),
                    "content_sha1": fp.content_sha1,
                    "minhash": fp.minhash,
                    "lsh_bands": fp.lsh_bands,
                    "frames": doc_frames,
                    "frame_scores": frame_scores,
                    "loaded_at": loaded_at,
                },
            )
        )
    outcomes = bulk_write(
        client,
        write_actions(names.baseline, [(i, {k: v for k, v in d.items() if v is not None}) for i, d in rows]),
        refresh="wait_for",
    )
    failures = [Failure(f"baseline:{o.doc_id}", o.reason or "") for o in outcomes if not o.ok]
    return BaselineLoad(baseline_id, version, True, len(docs) - len(failures), failures)


def documents(client: OpenSearch, names: IndexNames, baseline_id: str) -> list[dict[str, Any]]:
    resp = client.search(
        index=names.baseline,
        body={
            "size": 1000,
            "query": {"term": {"baseline_id": baseline_id}},
            "sort": ["doc_id"],
            "_source": ["doc_id", "title", "text", "source_path", "frames", "word_count", "loaded_at"],
        },
    )
    return [h["_source"] for h in resp["hits"]["hits"]]


def list_baselines(client: OpenSearch, names: IndexNames) -> list[dict[str, Any]]:
    resp = client.search(
        index=names.baseline,
        body={
            "size": 0,
            "aggs": {
                "ids": {
                    "terms": {"field": "baseline_id", "size": 1000},
                    "aggs": {"loaded": {"max": {"field": "loaded_at"}}},
                }
            },
        },
    )
    return [
        {"baseline_id": b["key"], "documents": b["doc_count"], "loaded_at": b["loaded"].get("value_as_string")}
        for b in resp["aggregations"]["ids"]["buckets"]
    ]


def ensure_default(
    client: OpenSearch, names: IndexNames, settings: Settings, frames: FrameSet | None = None
) -> list[dict[str, Any]]:
    """Documents of ``settings.baseline_id``; the shipped seed baseline is loaded on first use."""
    found = documents(client, names, settings.baseline_id)
    if found:
        return found
    name, _, version = settings.baseline_id.rpartition("-v")
    if not name or version != "1":
        raise NewsdriftError(
            f"baseline {settings.baseline_id!r} is not loaded; load it with `newsdrift baseline load --name {name}`"
        )
    docs, failures = read_documents([str(settings.baseline_dir)], settings)
    if failures:
        raise NewsdriftError("; ".join(f"{f.where}: {f.reason}" for f in failures))
    # Another process may be loading it at this moment: write v1 with stable ids (a no-op if it
    # won), then read it back after a refresh instead of trusting what a search saw before.
    dedup = settings.dedup_config()
    result = load(
        client, names, docs, name=name, frames=frames or load_frames(settings.frames_path), dedup=dedup, version=1
    )
    if result.failures:
        raise NewsdriftError("; ".join(f"{f.where}: {f.reason}" for f in result.failures))
    client.indices.refresh(index=names.baseline)
    found = documents(client, names, settings.baseline_id)
    stored = {fingerprint(d["text"], dedup).content_sha1 for d in found}
    wanted = {fingerprint(d.text, dedup).content_sha1 for d in docs}
    if result.baseline_id != settings.baseline_id or stored != wanted:
        raise NewsdriftError(
            f"{settings.baseline_dir} does not match the stored baseline {settings.baseline_id!r} "
            f"(it loaded as {result.baseline_id}); load it under a new name with `newsdrift baseline load` "
            f"and set NEWSDRIFT_BASELINE_ID"
        )
    return found
