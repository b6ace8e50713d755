"""Story clustering thresholds in one section, so the application settings can embed it unchanged.

Imports only pydantic; defaults measured on real labelled headlines by ``bench/stories.py`` (tune split).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StorySettings(BaseModel):
    """How an article is matched to an open story."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    story_window_hours: float = Field(default=72.0, gt=0.0)
    """A story stays open this long after its latest article; older stories are never joined."""
    story_threshold: float = Field(default=0.15, gt=0.0, le=1.0)
    """Minimum similarity (weighted cosine, names boosted) between an article and a story to join it."""
    story_name_boost: float = Field(default=1.0, ge=1.0, le=10.0)
    """Weight multiplier for names (capitalised spans) and numbers over ordinary content words; 1 (no boost)
    scored best on headlines, where a name shared by two events of one person is the usual false merge."""
    story_min_shared: int = Field(default=2, ge=1, le=10)
    """Distinct terms an article must share with a story to join it; a multi-word name counts once per word
    and once whole, so "Charles Plosser" alone is three."""
    story_member_weight: float = Field(default=0.3, ge=0.0, le=1.0)
    """Share of the score taken from the closest recent member instead of the story centroid."""
    story_recent_members: int = Field(default=40, ge=1, le=1000)
    """Recent members per story compared one by one (bounds the cost for very large stories)."""
    story_merge_threshold: float = Field(default=0.2, gt=0.0, le=1.0)
    """When an article could join two open stories, they merge if their centroids are at least this similar
    (1 keeps stories apart for good)."""
