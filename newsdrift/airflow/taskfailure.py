"""Airflow task failures as alerts through newsdrift's own channels (the DAGs' ``on_failure_callback``).

A failed try becomes an alert record of each ``kind: task_failure`` rule (deterministic id: dag, run, task,
try), delivered like any other alert (retries, per-channel state, Idempotency-Key). When the record cannot
be stored (OpenSearch is what failed, say), the message goes straight to the rule's channels instead, so
the failure is still heard.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from newsdrift.alert.rules import TaskFailureRule, load_rules
from newsdrift.clock import utcnow
from newsdrift.records import stable_id

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 1000


def _describe(context: Mapping[str, Any]) -> dict[str, Any]:
    from newsdrift.secrets import redact

    ti = context.get("task_instance") or context.get("ti")
    dag_id = str(getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "") or "")
    error = context.get("exception")
    return {
        "dag_id": dag_id,
        "task_id": str(getattr(ti, "task_id", "") or ""),
        "run_id": str(context.get("run_id") or getattr(ti, "run_id", "") or ""),
        "try_number": int(getattr(ti, "try_number", 0) or 0),
        "map_index": int(getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1),
        "error": redact(f"{type(error).__name__}: {error}")[:MAX_ERROR_CHARS] if error else "unknown error",
        "log_url": str(getattr(ti, "log_url", "") or ""),
    }


def alert_task_failure(context: Mapping[str, Any], settings: Any = None) -> dict[str, Any]:
    """Alert a failed task try through every matching ``task_failure`` rule; never raises."""
    try:
        return _alert(context, settings)
    except Exception as exc:  # noqa: BLE001 - a callback that raises would hide the task's own failure
        log.exception("task failure alert not sent: %s", exc)
        return {"alerts": 0, "error": f"{type(exc).__name__}: {exc}"}


def _alert(context: Mapping[str, Any], settings: Any) -> dict[str, Any]:
    from newsdrift.airflow.common import task_settings
    from newsdrift.alert.channels import send
    from newsdrift.alert.monitors import _alert as make_alert

    settings = settings or task_settings()
    info = _describe(context)
    ruleset = load_rules(settings.alert_rules_path)
    rules = [r for r in ruleset.of_kind(TaskFailureRule) if not r.dags or info["dag_id"] in r.dags]
    if not rules:
        return {"alerts": 0, "rules": []}
    now = utcnow()
    where = f"{info['dag_id']}.{info['task_id']}" + (f"[{info['map_index']}]" if info["map_index"] >= 0 else "")
    subject = f"{info['dag_id']}/{info['run_id']}/{info['task_id']}/{info['map_index']}/{info['try_number']}"
    alerts = [
        make_alert(
            rule,
            "task_failure",
            stable_id(rule.name, subject),
            subject,
            f"Airflow task {where} failed (try {info['try_number']})",
            {"reasons": [info["error"]], **info},
            now,
        )
        for rule in rules
    ]
    try:
        from newsdrift.airflow.common import store_context
        from newsdrift.alert.delivery import deliver_pending
        from newsdrift.alert.documents import create_alerts

        _, client, names = store_context(settings)  # templates applied: the alerts index has its mapping
        create_alerts(client, names, alerts)
        client.indices.refresh(index=names.alerts)
        report = deliver_pending(client, names, ruleset.channels, now=now)
        return {"alerts": len(alerts), "rules": [r.name for r in rules], "sent": len(report.sent), "stored": True}
    except Exception as exc:  # noqa: BLE001 - the store is down: say it straight to the channels
        log.warning("task failure alert not stored (%s); sending directly", exc)
        sent = 0
        for alert in alerts:
            for name in alert.channels:
                channel = ruleset.channels.get(name)
                if (
                    channel is not None
                    and send(channel, alert.title, alert.message, "failure", idempotency_key=alert.id).ok
                ):
                    sent += 1
        return {"alerts": len(alerts), "rules": [r.name for r in rules], "sent": sent, "stored": False}
