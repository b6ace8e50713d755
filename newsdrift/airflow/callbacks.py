"""Airflow callbacks the DAG files import at parse time: nothing heavy here, imports happen when called."""

from __future__ import annotations

from typing import Any


def on_task_failure(context: Any) -> None:
    """``on_failure_callback`` of every newsdrift task: the failure goes out through the alert channels
    (``kind: task_failure`` rules in config/alerts.yaml), like any other alert."""
    from newsdrift.airflow.taskfailure import alert_task_failure

    alert_task_failure(context)
