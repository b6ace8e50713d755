"""Scored articles -> article documents: one bulk write per batch, with a per-document outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from opensearchpy import OpenSearch

from newsdrift.records import IndexOutcome, ScoredArticle
from newsdrift.store.bulk import bulk_write, claim_own_writes, write_actions
from newsdrift.store.client import cluster_call
from newsdrift.store.names import IndexNames


def index_articles(
    client: OpenSearch, names: IndexNames, articles: list[ScoredArticle], run_id: str | None
) -> list[IndexOutcome]:
    """Create each article's document (never overwrite); a document another run wrote first is ``exists``."""
    # alert_state "pending" unless the alerting stage wrote the article's alerts while scoring: a
    # pending article is matched by the next matching step (newsdrift.alert.pending)
    stamp = {"indexed_at": datetime.now(UTC).isoformat(), **({"run_id": run_id} if run_id else {})}
    docs = [(a.article.id, {**a.to_document(), **stamp, "alert_state": a.alert_state or "pending"}) for a in articles]
    # refresh=True makes the batch searchable now (the next batch dedups against it); wait_for
    # would idle until the next periodic refresh
    outcomes = cluster_call(bulk_write, client, write_actions(names.articles, docs), refresh=True)
    return cluster_call(claim_own_writes, client, outcomes, run_id)
