"""Dedup configuration: every tuning value (``DedupConfig``), and the part users tune through the application
settings (``DedupSettings``). Imports nothing of newsdrift, so the settings can derive from it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DedupConfig(BaseModel):
    """Tuning for duplicate detection; defaults measured by ``bench/dedup_quality.py``.

    ``shingle_size``, ``num_perm``, ``bands`` and ``min_line_words`` shape the stored signatures and band keys:
    a value other than the one the stored documents were fingerprinted with makes them incomparable.
    """

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    threshold: float = Field(default=0.25, gt=0.0, le=1.0)
    """Minimum Jaccard estimate for a near-duplicate."""
    shingle_size: int = Field(default=3, ge=1, le=10)
    """Words per shingle."""
    num_perm: int = Field(default=192, ge=16, le=1024)
    """MinHash permutations = length of the stored ``minhash`` array."""
    bands: int = Field(default=64, ge=1)
    """LSH bands (= ``lsh_bands`` keys per document); rows per band = num_perm / bands."""
    min_line_words: int = Field(default=10, ge=0, le=50)
    """Lines with fewer words are left out of the signature (headlines, bylines, teasers)."""
    candidate_limit: int = Field(default=50, ge=1, le=1000)
    """Max candidates fetched per article and per index in the ``_msearch``."""
    verify_threshold: float = Field(default=0.38, ge=0.0, le=1.0)
    """Candidates past the MinHash estimate are verified on exact shingles: a copy when the weighted
    containment of the smaller text in the larger reaches this (``dedup/verify.py``; 0 turns it off)."""
    verify_gate: float = Field(default=0.25, gt=0.0, le=1.0)
    """With verification on, the Jaccard estimate a candidate needs to be verified (at most ``threshold``). A
    copy trimmed to half and wrapped in another site's chrome often estimates 0.15-0.25: 0.15 finds more of
    them on their own (bench/dedup_realtext.py pairs: recall 0.951 -> 0.963) but verifies many more candidates
    (scoring overhead +26 % -> +38 % in bench/ingest_bench.py), and in the pipeline other copies of the story
    link most such trims to it anyway (recall 0.988 -> 0.989), so the default is ``threshold``."""
    df_sample: int = Field(default=300, ge=0, le=10_000)
    """Recent indexed articles whose shingles give the document frequencies that down-weight stock
    phrases and site templates (read once per pass, when a candidate first needs verifying)."""

    @model_validator(mode="after")
    def _bands_divide_perms(self) -> DedupConfig:
        if self.num_perm % self.bands:
            raise ValueError(f"bands ({self.bands}) must divide num_perm ({self.num_perm})")
        return self

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    @property
    def fingerprint_shape(self) -> tuple[int, int, int, int]:
        """What a fingerprint depends on: two configs of the same shape give the same fingerprints."""
        return (self.shingle_size, self.num_perm, self.bands, self.min_line_words)

    @property
    def gate(self) -> float:
        """The estimate a candidate needs before its exact shingles are compared (``verify_gate``, at most
        ``threshold``)."""
        return min(self.verify_gate, self.threshold)

    @property
    def lsh_threshold(self) -> float:
        """Jaccard at which two texts become candidates with probability ~0.5: where 1 - (1 - J^r)^b = 0.5
        (exact, not the (1/b)^(1/r) rule of thumb)."""
        return (1.0 - 0.5 ** (1.0 / self.bands)) ** (1.0 / self.rows)


class DedupSettings(BaseModel):
    """Duplicate detection: the ``DedupConfig`` fields worth tuning per deployment, as ``dedup_<field>``.

    The fingerprint shape (shingle size, permutations, bands, minimum line length) is left out: every stored
    signature and band key depends on it, so it is not a per-deployment choice."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    dedup_threshold: float = Field(default=0.25, gt=0.0, le=1.0)
    """Minimum MinHash Jaccard estimate for two articles to be near-duplicates."""
    dedup_candidate_limit: int = Field(default=50, ge=1, le=1000)
    """Most candidates fetched per article from the articles and from the baseline."""
    dedup_verify_threshold: float = Field(default=0.38, ge=0.0, le=1.0)
    """Weighted containment of the smaller text's shingles in the larger's that confirms a copy; 0 turns the
    exact-shingle verification off (the estimate alone decides, against ``dedup_threshold``)."""
    dedup_verify_gate: float = Field(default=0.25, gt=0.0, le=1.0)
    """With verification on, the Jaccard estimate a candidate needs to be verified (capped at
    ``dedup_threshold``): lower finds more trimmed copies but verifies many more candidates."""
    dedup_df_sample: int = Field(default=300, ge=0, le=10_000)
    """Recent articles whose shingle frequencies down-weight stock phrases and site templates in the
    verification; 0: only the batch and its candidates are counted."""

    def dedup_config(self) -> DedupConfig:
        """The DedupConfig these settings give; the fields they leave out keep their defaults."""
        return DedupConfig(
            threshold=self.dedup_threshold,
            candidate_limit=self.dedup_candidate_limit,
            verify_threshold=self.dedup_verify_threshold,
            verify_gate=self.dedup_verify_gate,
            df_sample=self.dedup_df_sample,
        )
