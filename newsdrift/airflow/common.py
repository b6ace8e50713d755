"""What the task modules share: settings and a connected client in one call, the alerting cycle.

Settings come from ``newsdrift.airflow.connection.settings_from_airflow``: the Airflow
connection ``opensearch_default`` when it exists, otherwise the ``NEWSDRIFT_*`` settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from newsdrift.settings import Settings
    from newsdrift.store.names import IndexNames

HTTP_POOL = "newsdrift_http"
"""Airflow pool of the tasks that make HTTP requests (feed polls, page fetches)."""
MAX_ERRORS_RETURNED = 20
"""A task's XCom lists at most this many errors (and their total count)."""


class StoreContext(NamedTuple):
    settings: Settings
    client: OpenSearch
    names: IndexNames


def task_settings(*, private: bool = False) -> Settings:
    """The settings a task runs with; ``private`` also allows loopback/private addresses (sample corpus)."""
    from newsdrift.airflow.connection import settings_from_airflow

    settings = settings_from_airflow()
    if private:
        from newsdrift.ops.demo import sample_settings

        settings = sample_settings(settings)
    return settings


def store_context(settings: Settings | None = None, *, ensure: bool = True) -> StoreContext:
    """Settings (``task_settings()`` unless given), a client that has answered once (``ClusterUnavailable``
    otherwise; one connection check) and the index names. With ``ensure`` the index templates are applied
    and missing indices created first (idempotent)."""
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates

    settings = settings or task_settings()
    client, names = connect(settings), IndexNames(settings.index_prefix)
    if ensure:
        apply_templates(client, names)
    return StoreContext(settings, client, names)


def article_documents(
    client: OpenSearch, names: IndexNames, ids: list[str], chunk: int = 200
) -> list[tuple[str, dict[str, Any]]]:
    """(id, source) of indexed articles, read through the alias (which may span several indices)."""
    docs: list[tuple[str, dict[str, Any]]] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        resp = client.search(index=names.articles, body={"query": {"ids": {"values": part}}, "size": len(part)})
        docs.extend((h["_id"], h["_source"]) for h in resp["hits"]["hits"])
    return docs


def alerting_cycle(article_ids: list[str] | None = None) -> dict[str, Any]:
    """Sync the rules file, match the articles, then the pass-end work of the alerting stage: articles a
    dead task left unmatched, feed health, bursts, drift events and delivery. Alerts have deterministic
    ids, so a retried task never alerts twice; matched articles leave ``alert_state: pending``.
    """
    from newsdrift.alert.stage import AlertingStage
    from newsdrift.records import RunSummary
    from newsdrift.run import context as runctx

    settings, client, names = store_context(ensure=False)
    stage = AlertingStage(settings, client, names)
    if not stage.enabled:
        return {"alerts": 0, "rules": [], "reason": f"no rules file {settings.alert_rules_path}"}
    summary = RunSummary()
    with runctx.pass_context(summary.add_error):
        docs = article_documents(client, names, list(article_ids or []))
        if docs:
            stage.match(docs, summary)
        report = stage.after_pass(summary)
    rejected = stage.sync_report.to_json()["rejected"] if stage.sync_report else []
    return {
        **report.to_json(),
        "alerts": summary.alerts,
        "articles": len(docs),
        "rules_rejected": [p["message"] for p in rejected],
        "error_count": len(summary.errors),
        "errors": [e.to_dict() for e in summary.errors[:MAX_ERRORS_RETURNED]],
    }
