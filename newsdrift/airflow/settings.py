"""Airflow section of the settings: DAG schedules, ingest sharding and the maintenance DAG's limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class AirflowSettings(BaseModel):
    """The DAGs: when they run, how the ingest DAG shards, what maintenance keeps."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    ingest_schedule: str = "*/15 * * * *"
    """Cron schedule of the ``newsdrift_ingest`` DAG (read when the DAG file is parsed); empty: triggered runs only."""
    drift_cron: str = "30 2 * * *"
    """Daily run of the ``newsdrift_drift`` DAG (cron, UTC), besides every new-articles asset event."""
    maintenance_schedule: str = "0 3 * * *"
    """Cron schedule of the ``newsdrift_maintenance`` DAG."""
    rollover_max_age_days: float = Field(default=30.0, ge=0)
    """Maintenance: the articles alias rolls over when its write index is older than this ..."""
    rollover_max_docs: int = Field(default=1_000_000, ge=1)
    """... or holds more documents than this (defaults of the DAG's params)."""
    retention_days: float = Field(default=365.0, ge=0)
    """Maintenance: article indices whose newest document is older than this are deleted (never the write index)."""
    disable_feed_after_days: float = Field(default=7.0, ge=0)
    """Maintenance: feeds failing for at least this long are disabled, with the reason recorded."""
    ingest_shards: int = Field(default=8, ge=1, le=1024)
    """Tasks the ``newsdrift_ingest`` DAG maps per run: due feeds are grouped by host into at most this many
    shards, each polled, fetched, extracted, scored and indexed by one task (1,024 is Airflow's map limit)."""
    airflow_home: Path | None = None
    """AIRFLOW_HOME of the local Airflow (SQLite) that ``scripts/run_ingest_dag.py`` (``make demo``) sets up;
    default ``<home>/airflow``."""
