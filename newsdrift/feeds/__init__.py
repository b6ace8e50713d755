"""feed -> entry: the feed catalog, discovery, polling, the next-poll schedule, per-feed state and shards."""
