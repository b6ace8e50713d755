"""Story clustering: which articles from different outlets report the same event."""
