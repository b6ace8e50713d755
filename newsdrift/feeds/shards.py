"""Feeds grouped into shards by host: the unit of work the ingest DAG maps over.

A feed's shard is a hash of its host name modulo the shard count, so every feed of a host lands
in the same shard (the per-host politeness of fetching stays inside one task) and a feed keeps its
shard from one run to the next as long as the count stays the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit

from newsdrift.feeds.catalog import Feed


def feed_host(url: str) -> str:
    """The host name a feed's requests go to (lower case, no port: politeness is per host name)."""
    return (urlsplit(url).hostname or "").lower()


def shard_of(url: str, shards: int) -> int:
    """Stable shard number in ``[0, shards)`` for a feed URL (blake2b of its host, not Python's ``hash``)."""
    if shards < 1:
        raise ValueError(f"ingest_shards must be at least 1, got {shards}")
    digest = hashlib.blake2b(feed_host(url).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def group_feeds(feeds: Iterable[Feed], shards: int) -> dict[int, list[Feed]]:
    """Non-empty shards, by shard number, each with its feeds in their original order."""
    groups: dict[int, list[Feed]] = {}
    for feed in feeds:
        groups.setdefault(shard_of(feed.url, shards), []).append(feed)
    return dict(sorted(groups.items()))
