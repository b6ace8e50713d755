"""article -> scored article: topic relevance, near-duplicates and narrative drift against the baseline."""
