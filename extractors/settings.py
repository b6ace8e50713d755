"""Extraction section of the settings: what counts as an article body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ExtractSettings(BaseModel):
    """Page -> article: body extraction and the feed-text fallback."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    min_words: int = Field(default=80, ge=1)
    """Bodies shorter than this are recorded as extraction failures, not indexed."""
    extraction_focus: Literal["balanced", "precision", "recall"] = "balanced"
    """trafilatura's trade-off: "balanced" (its defaults, best F1 on real pages), "precision" for
    sites whose teaser or related-story blocks end up in the text, "recall" to keep more."""
    feed_text_min_words: int = Field(default=20, ge=1)
    """A page that cannot be had (401/403, robots.txt, too short) is indexed from the feed's own content
    (content:encoded, summary) when that has at least this many words, with ``text_source: feed``."""
