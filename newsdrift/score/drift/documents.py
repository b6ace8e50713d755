"""The drift index's documents: window, frame, term and event docs with deterministic ids, and back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from newsdrift.clock import as_utc as utc
from newsdrift.clock import iso
from newsdrift.records import stable_id
from newsdrift.score.drift.events import DriftEvent
from newsdrift.score.drift.windows import EmergingTerm, WindowRecord


def window_doc_id(baseline_id: str, window: str, start: datetime, kind: str = "window", name: str = "") -> str:
    """Deterministic id of a window, frame or term doc."""
    parts = ["drift", baseline_id, window, iso(start), kind]
    return stable_id(*parts, name) if name else stable_id(*parts)


def window_documents(record: WindowRecord, updated_at: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(id, doc) for the window doc, one frame doc per frame and one term doc per emerging term."""
    base = {
        "baseline_id": record.baseline_id,
        "window": record.window,
        "window_start": iso(record.window_start),
        "window_end": iso(record.window_end),
        "article_count": record.article_count,
        "updated_at": iso(updated_at),
    }
    frames = sorted(record.frame_shares.keys() | record.baseline_shares.keys())
    shares = {
        f: {
            "share": record.frame_shares.get(f, 0.0),
            "baseline_share": record.baseline_shares.get(f, 0.0),
            "delta": round(record.share_delta(f), 6),
        }
        for f in frames
    }
    docs = [
        (
            window_doc_id(record.baseline_id, record.window, record.window_start),
            {
                **base,
                "kind": "window",
                "js_divergence": record.js_divergence,
                "centroid_shift": record.centroid_shift,
                "frame_shift": record.frame_shift,
                "mean_baseline_similarity": record.mean_baseline_similarity,
                "mean_novelty": record.mean_novelty,
                "frame_shares": shares,
                "emerging_terms": [t.to_dict() for t in record.emerging_terms],
                "example_article_ids": record.example_article_ids,
                "stats": {
                    "frame_profile": record.frame_profile,
                    "frame_var": record.frame_var,
                    "framed_articles": record.framed_articles,
                    "similarity_var": record.similarity_var,
                },
            },
        )
    ]
    for f in frames:
        docs.append(
            (
                window_doc_id(record.baseline_id, record.window, record.window_start, "frame", f),
                {
                    **base,
                    "kind": "frame",
                    "frame": f,
                    "share": shares[f]["share"],
                    "baseline_share": shares[f]["baseline_share"],
                    "share_delta": shares[f]["delta"],
                },
            )
        )
    for t in record.emerging_terms:
        docs.append(
            (
                window_doc_id(record.baseline_id, record.window, record.window_start, "term", t.term),
                {
                    **base,
                    "kind": "term",
                    "term": t.term,
                    "keyness": t.keyness,
                    "log_ratio": t.log_ratio,
                    "rank": t.rank,
                    "count": t.count,
                    "baseline_count": t.baseline_count,
                },
            )
        )
    return docs


def window_from_doc(doc: Mapping[str, Any]) -> WindowRecord:
    """Rebuild a WindowRecord from its window doc."""
    shares = doc.get("frame_shares") or {}
    stats = doc.get("stats") or {}
    return WindowRecord(
        baseline_id=doc["baseline_id"],
        window=doc["window"],
        window_start=utc(doc["window_start"]),
        window_end=utc(doc["window_end"]),
        article_count=int(doc.get("article_count", 0)),
        js_divergence=float(doc.get("js_divergence", 0.0)),
        centroid_shift=float(doc.get("centroid_shift", 0.0)),
        mean_baseline_similarity=float(doc.get("mean_baseline_similarity", 0.0)),
        mean_novelty=float(doc.get("mean_novelty", 0.0)),
        frame_shares={f: float(s["share"]) for f, s in shares.items()},
        baseline_shares={f: float(s["baseline_share"]) for f, s in shares.items()},
        emerging_terms=[EmergingTerm(**t) for t in doc.get("emerging_terms") or []],
        example_article_ids=list(doc.get("example_article_ids") or []),
        frame_profile={f: float(v) for f, v in (stats.get("frame_profile") or {}).items()},
        frame_var={f: float(v) for f, v in (stats.get("frame_var") or {}).items()},
        framed_articles=int(stats.get("framed_articles", 0)),
        similarity_var=float(stats.get("similarity_var", 0.0)),
    )


_EVENT_STATS = (
    "direction",
    "reference",
    "delta",
    "ci_low",
    "ci_high",
    "confidence",
    "false_alarm_rate",
    "reference_windows",
)


def event_document(event: DriftEvent, updated_at: datetime) -> dict[str, Any]:
    """The kind=event doc (its _id is ``event.event_id``).

    The drift mapping has no fields for peak, release, open or the firing window,
    so they ride in the unindexed ``emerging_terms`` object next to the terms.
    """
    return {
        "kind": "event",
        "event_id": event.event_id,
        "baseline_id": event.baseline_id,
        "window": event.window,
        "window_start": iso(event.window_start),
        "window_end": iso(event.window_end),
        "metric": event.metric,
        "value": event.value,
        "threshold": event.threshold,
        "consecutive_windows": event.consecutive_windows,
        "explanation": event.explanation,
        "example_article_ids": event.example_article_ids,
        "frame_shares": event.frame_shares,
        "emerging_terms": {
            "terms": event.emerging_terms,
            "peak": event.peak,
            "release": event.release,
            "open": event.open,
            "fired_window_start": iso(event.fired_window_start),
        },
        "frame": event.frame or None,
        "stats": {k: getattr(event, k) for k in _EVENT_STATS},
        "updated_at": iso(updated_at),
    }


def event_from_doc(doc: Mapping[str, Any]) -> DriftEvent:
    """Rebuild a DriftEvent from its doc."""
    extra = doc.get("emerging_terms") or {}
    stats = doc.get("stats") or {}
    return DriftEvent(
        event_id=doc["event_id"],
        baseline_id=doc["baseline_id"],
        window=doc["window"],
        metric=doc["metric"],
        window_start=utc(doc["window_start"]),
        window_end=utc(doc["window_end"]),
        fired_window_start=utc(extra.get("fired_window_start") or doc["window_start"]),
        value=float(doc.get("value", 0.0)),
        peak=float(extra.get("peak", doc.get("value", 0.0))),
        threshold=float(doc.get("threshold", 0.0)),
        release=float(extra.get("release", 0.0)),
        consecutive_windows=int(doc.get("consecutive_windows", 0)),
        open=bool(extra.get("open", False)),
        explanation=doc.get("explanation", ""),
        example_article_ids=list(doc.get("example_article_ids") or []),
        frame_shares=dict(doc.get("frame_shares") or {}),
        emerging_terms=list(extra.get("terms") or []),
        frame=doc.get("frame") or "",
        direction=int(stats.get("direction", 1)),
        reference=float(stats.get("reference", 0.0)),
        delta=float(stats.get("delta", 0.0)),
        ci_low=float(stats.get("ci_low", 0.0)),
        ci_high=float(stats.get("ci_high", 0.0)),
        confidence=float(stats.get("confidence", 0.0)),
        false_alarm_rate=float(stats.get("false_alarm_rate", 0.0)),
        reference_windows=int(stats.get("reference_windows", 0)),
    )
