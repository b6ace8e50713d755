"""entry -> page: guarded HTTP, charset decoding, robots.txt, per-host politeness and dead links."""
