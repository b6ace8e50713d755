"""One pass (poll -> select -> fetch -> extract -> score -> index -> alert), its workers and backfill."""
