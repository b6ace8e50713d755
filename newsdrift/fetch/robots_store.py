"""robots.txt kept per origin in OpenSearch, so a pass reuses it until its TTL instead of fetching it again."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import OpenSearchException

from newsdrift.clock import utcnow
from newsdrift.records import stable_id
from newsdrift.store.names import IndexNames


class RobotsStore:
    """The ``robots_store`` of ``newsdrift.fetch.fetcher.PoliteFetcher``: get/put one origin's robots.txt response.

    Store errors never fail a fetch: a lookup that fails is a miss, a write that fails is
    forgotten (the next pass simply fetches robots.txt again).
    """

    def __init__(self, client: OpenSearch, names: IndexNames, ttl_seconds: float) -> None:
        self._client, self._index, self._ttl = client, names.hosts, ttl_seconds

    async def get(self, origin: str) -> tuple[int, bytes] | None:
        if self._ttl <= 0:
            return None
        return await asyncio.to_thread(self._get, origin)

    async def put(self, origin: str, status: int, body: bytes) -> None:
        if self._ttl > 0:
            await asyncio.to_thread(self._put, origin, status, body)

    def _get(self, origin: str) -> tuple[int, bytes] | None:
        try:
            doc = self._client.get(index=self._index, id=stable_id(origin), ignore=[404])
        except OpenSearchException:  # a cache miss, not a failure
            return None
        src: dict[str, Any] = doc.get("_source") or {}
        expires = src.get("expires_at")
        if not expires or datetime.fromisoformat(expires) <= utcnow():
            return None
        return int(src["robots_status"]), str(src.get("robots_txt", "")).encode("utf-8")

    def _put(self, origin: str, status: int, body: bytes) -> None:
        now = utcnow()
        doc = {
            "origin": origin,
            "robots_status": status,
            "robots_txt": body.decode("utf-8", errors="replace"),
            "fetched_at": now.isoformat(),
            "expires_at": (now + timedelta(seconds=self._ttl)).isoformat(),
        }
        try:
            self._client.index(index=self._index, id=stable_id(origin), body=doc)
        except OpenSearchException:  # see the class docstring
            return
