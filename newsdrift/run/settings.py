"""Run section of the settings: how one ingest pass is batched and parallelised, and the sample corpus."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class RunSettings(BaseModel):
    """One pass: batches, extraction workers, and the offline sample corpus used when no feed is configured."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    batch_size: int = Field(default=50, ge=1, le=5000)
    """Articles fetched, scored and bulk-indexed together; memory is bounded by one batch."""
    extract_workers: int = Field(default_factory=lambda: max(2, os.cpu_count() or 2), ge=1, le=64)
    """Worker processes (threads for small passes) running trafilatura while pages download
    (default: the number of CPUs, at least 2)."""
    sample_port: int = Field(default=8765, ge=1025, le=65000)
    """Port of the offline sample corpus used when no feeds are configured (fixed, so article URLs and
    ids stay the same from one run to the next)."""
    sample_url: str | None = None
    """A running sample corpus server (e.g. http://127.0.0.1:8765) whose feeds the ingest DAG polls when
    no feed is configured; the DAG's ``sample_base_url`` param defaults to it."""
