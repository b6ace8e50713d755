"""Score section of the settings: topic relevance and the baseline drift is measured against."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ScoreSettings(BaseModel):
    """Article -> scored article: topic relevance and the active baseline."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    topic_threshold: float = Field(default=0.2, ge=0, le=1)
    """Articles whose topic relevance (0-1) is below this are off-topic."""
    off_topic: Literal["flag", "drop"] = "flag"
    """Off-topic articles are indexed with ``off_topic: true`` (flag) or not indexed (drop)."""
    baseline_id: str = "seed-v1"
    """The baseline version drift is measured against (``newsdrift baseline list`` shows them)."""
