"""scored article -> document: the store client, index names and templates, bulk writes with per-item outcomes."""
