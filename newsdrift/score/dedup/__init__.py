"""Exact and near-duplicate detection: MinHash/LSH fingerprints verified against the store."""
