"""Claims for concurrent writers: two shard tasks or overlapping runs that index copies of one story at once
agree on one cluster through the claims index, where the node lets exactly one writer create a given id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.records import ScoredArticle
from newsdrift.score.dedup.minhash import Fingerprint, lsh_band_keys, verified_score


@dataclass(frozen=True, slots=True)
class ClaimJoin:
    """A would-be founder that lost a claim to a verified copy: it joins that copy's cluster."""

    cluster_id: str
    article_id: str  # the claimant, a copy of this article
    score: float
    exact: bool


_BULK_ITEM_FIELDS = "items.*._id,items.*.status,items.*.error"


def claim_keys(fp: Fingerprint) -> list[str]:
    """The keys an article claims, in the one order every writer uses: content hash, then bands sorted."""
    return [f"sha1_{fp.content_sha1}", *sorted(set(fp.lsh_bands))]


def claim_clusters(
    client: OpenSearch,
    index: str,
    founders: Sequence[tuple[ScoredArticle, Fingerprint]],
    threshold: float,
    memory: ClaimMemory | None = None,
    confirm: Callable[[str, str], bool] | None = None,
) -> dict[str, ClaimJoin]:
    """Claim the keys of would-be cluster founders; those that meet a verified copy's claim join it.

    An article that would found a new cluster first claims its content hash and then its LSH band keys, one
    key at a time in one global order (``_id`` = the key, ``op_type=create``). At the first key already
    claimed by a verified copy (same content hash, or Jaccard estimate past the threshold, read back with a
    realtime GET) it stops and joins that claim's cluster instead. Because every writer tries the keys in the
    same order and stops at its first lost key, two copies racing for a story always meet at the first key
    they share and exactly one of them founds the cluster. Claims are written before the article is indexed
    and outlive the race window (maintenance prunes them after a day, ``prune_claims``); later copies find
    the story in the articles index. The representative's ``cluster_size`` is not updated for a claim join
    (the founder may not be indexed yet); ``story_cluster_id`` is what groups a story.

    All keys of all founders go in one bulk request. Between two verified copies, the one holding
    the first key of theirs, in ``claim_keys`` order, that either of them holds founds the
    cluster and the other joins it; each side computes this from the same claims (the other's
    keys follow from its MinHash), so two racing writers agree even when each won some of the
    keys. A key held by an unrelated text (a band collision) is passed over. A founder that joins
    moves its keys to the cluster it joined. Returns article id -> ``ClaimJoin`` for those that join.
    With ``memory`` the claims this writer created are remembered there and not read back (``ClaimMemory``).
    ``confirm(article id, holder id)`` is asked about a holder past the estimate before joining it (the
    exact-shingle verification; False: not a copy, passed over like a band collision).
    """
    from opensearchpy.helpers import bulk

    now = datetime.now(UTC).isoformat()
    plan = {sa.article.id: (fp, claim_keys(fp)) for sa, fp in founders}
    owner: dict[str, str] = {}  # key -> the founder of this request that asks for it
    # The request body is written here, not by opensearch-py's bulk helper: a batch's founders claim
    # about 3,000 keys, and the helper's per-action work costs more than the node's (bench/realpages.py).
    lines: list[str] = []
    for aid, (fp, keys) in plan.items():
        source = {"article_id": aid, "cluster_id": aid, "content_sha1": fp.content_sha1, "created_at": now}
        # the MinHash only on the content-hash claim (position 0): on each of 64 band claims it would
        # add 2 KB of JSON, most of a pass's dedup time (bench/realpages.py)
        first, rest = json.dumps({**source, "minhash": fp.minhash}), json.dumps(source)
        for position, key in enumerate(keys):
            if key in owner:  # a band collision inside the batch: the first founder asks for it
                continue
            owner[key] = aid
            lines.append(f'{{"create":{{"_id":{json.dumps(key)}}}}}')  # the index is in the URL
            lines.append(first if position == 0 else rest)
    taken: set[str] = set()
    if lines:  # one request for the whole batch
        # only what is read back: the full response is about 200 bytes per claim for the node to
        # write and for us to parse, a third of the pass's JSON
        resp = client.bulk(index=index, body="\n".join(lines) + "\n", filter_path=_BULK_ITEM_FIELDS)
        for item in resp["items"]:
            info = item.get("create", {})
            if info.get("status") == 409:
                taken.add(info["_id"])
            elif not 200 <= int(info.get("status", 500)) < 300:
                raise RuntimeError(f"dedup claim {info.get('_id')} failed: {info.get('error')}")
    if memory is not None:
        memory.remember(plan, owner, taken)
    wanted_elsewhere = {k for aid, (_fp, keys) in plan.items() for k in keys if owner[k] != aid}
    holders: dict[str, dict[str, Any]] = {}
    unknown: list[str] = []
    for key in sorted(taken | wanted_elsewhere):
        claim = memory.get(key) if memory is not None else None
        if claim is None:
            unknown.append(key)
        else:
            holders[key] = claim
    holders.update(_claims(client, index, unknown))
    joined: dict[str, ClaimJoin] = {}
    for aid, (fp, keys) in plan.items():
        holder_of = {
            k: (aid if owner[k] == aid and k not in taken else holders.get(k, {}).get("article_id")) for k in keys
        }
        join = _join_for(aid, fp, keys, holder_of, holders, threshold, confirm)
        if join is not None:
            joined[aid] = join
    moves = [
        {"_op_type": "update", "_index": index, "_id": key, "doc": {"cluster_id": join.cluster_id}}
        for aid, join in joined.items()
        for key in plan[aid][1]
        if owner[key] == aid and key not in taken or holders.get(key, {}).get("article_id") == aid
    ]
    if moves:
        if memory is not None:
            memory.forget(str(m["_id"]) for m in moves)  # their cluster_id changes (or, if the update fails, not)
        bulk(client, moves, chunk_size=len(moves), raise_on_error=False, raise_on_exception=False)
    return joined


class ClaimMemory:
    """The claims one writer created (``op_type=create`` answered 201), as a realtime GET reads them back
    (with the claimant's MinHash filled in, without ``created_at``, which nothing reads).

    Nobody else changes such a claim: other writers only create keys and move their own, and a move of
    ours forgets the keys it moves. So ``claim_clusters`` reads them from here: read back from the node,
    each batch's look-up of keys it had just claimed (band collisions inside the batch, or with an
    earlier batch) makes the node refresh the claims index to answer it, a third of a batch's claiming
    time on the bench. Bounded: at most ``limit`` keys, the oldest forgotten first, and all of them
    after ``max_age`` seconds, far inside the day after which maintenance prunes claims (``prune_claims``);
    a key not here is read back from the node.
    """

    def __init__(self, limit: int = 100_000, max_age: float = 3600.0) -> None:
        self.limit, self.max_age = limit, max_age
        self._claims: dict[str, dict[str, Any]] = {}  # key -> its claimant's claim, shared by its keys
        self._since = time.monotonic()

    def remember(
        self, plan: Mapping[str, tuple[Fingerprint, list[str]]], owner: Mapping[str, str], taken: set[str]
    ) -> None:
        """The keys of this request that its founders created, for founders that created their content-hash
        claim too (the claim that carries the MinHash the others are read back with)."""
        if time.monotonic() - self._since > self.max_age:
            self._claims.clear()
            self._since = time.monotonic()
        for aid, (fp, keys) in plan.items():
            if not keys or owner.get(keys[0]) != aid or keys[0] in taken:
                continue
            claim = {"article_id": aid, "cluster_id": aid, "content_sha1": fp.content_sha1, "minhash": fp.minhash}
            for key in keys:
                if owner[key] == aid and key not in taken:
                    self._claims[key] = claim
        while len(self._claims) > self.limit:
            del self._claims[next(iter(self._claims))]

    def get(self, key: str) -> dict[str, Any] | None:
        """A copy of the claim on ``key``, if this writer created it and it is remembered."""
        if time.monotonic() - self._since > self.max_age:
            return None
        claim = self._claims.get(key)
        return None if claim is None else {**claim, "minhash": list(claim["minhash"])}

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._claims.pop(key, None)


def _claims(client: OpenSearch, index: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The claims held on ``keys`` (realtime), each with its claimant's MinHash."""
    if not keys:
        return {}
    docs = client.mget(index=index, body={"ids": keys}, realtime=True)["docs"]
    held = {d["_id"]: d["_source"] for d in docs if d.get("found")}
    _with_minhash(client, index, held)
    return held


def _join_for(
    aid: str,
    fp: Fingerprint,
    keys: list[str],
    holder_of: Mapping[str, str | None],
    claims: Mapping[str, dict[str, Any]],
    threshold: float,
    confirm: Callable[[str, str], bool] | None = None,
) -> ClaimJoin | None:
    """The verified copy whose claim ``aid`` must join, or None when ``aid`` founds its own cluster."""
    decided: set[str] = set()
    for key in keys:
        other = holder_of.get(key)
        if other is None or other == aid or other in decided:
            continue
        decided.add(other)
        claim = claims[key]
        exact = claim.get("content_sha1") == fp.content_sha1
        score = 1.0 if exact else verified_score(fp.minhash, claim.get("minhash") or [], threshold)
        if score is None or not exact and confirm is not None and not confirm(aid, other):
            continue  # a band collision with an unrelated text, or a text the exact shingles say is no copy
        theirs = set(_claimant_keys(claim, len(fp.lsh_bands)))
        # the first shared key that one of the two holds decides; ``key`` is held by ``other``,
        # so an earlier decisive key can only be ours
        decisive = next((k for k in keys if k in theirs and holder_of.get(k) in (aid, other)), key)
        if holder_of[decisive] == other:
            return ClaimJoin(claim["cluster_id"], claim["article_id"], score, exact)
    return None


def _claimant_keys(claim: Mapping[str, Any], bands: int) -> list[str]:
    """The keys the claimant of ``claim`` asked for, rebuilt from its content hash and MinHash."""
    minhash = claim.get("minhash") or []
    band_keys = lsh_band_keys(minhash, bands) if bands else []  # a text too short for shingles has no bands
    return claim_keys(Fingerprint(str(claim.get("content_sha1")), minhash, band_keys))


def _with_minhash(client: OpenSearch, index: str, held: dict[str, dict[str, Any]]) -> None:
    """Band claims carry no MinHash: take it from their claimant's content-hash claim (claimed first)."""
    wanted = {f"sha1_{c['content_sha1']}" for c in held.values() if not c.get("minhash") and c.get("content_sha1")}
    if not wanted:
        return
    docs = client.mget(index=index, body={"ids": sorted(wanted)}, realtime=True)["docs"]
    minhashes = {d["_id"]: d["_source"].get("minhash") for d in docs if d.get("found")}
    for claim in held.values():
        if not claim.get("minhash"):
            claim["minhash"] = minhashes.get(f"sha1_{claim.get('content_sha1')}") or []


def rejoin(articles: Sequence[ScoredArticle], joined: Mapping[str, ClaimJoin]) -> None:
    """Founders that lost a claim join the claimant's cluster; their batch members follow them."""
    if not joined:
        return
    for sa in articles:
        join = joined.get(sa.article.id)
        if join is not None:
            sa.story_cluster_id = join.cluster_id
            sa.near_duplicate_of = join.article_id
            sa.duplicate_kind = "exact" if join.exact else "near"
            sa.duplicate_of = join.article_id if join.exact else None
            sa.duplicate_score = join.score
            sa.cluster_size = max(sa.cluster_size or 1, 2)
        elif sa.story_cluster_id is not None and sa.story_cluster_id in joined:
            sa.story_cluster_id = joined[sa.story_cluster_id].cluster_id


def prune_claims(client: OpenSearch, index: str, older_than_hours: float = 24.0) -> int:
    """Delete claims older than the race window they guard (later copies find the story in the articles index)."""
    from opensearchpy.exceptions import NotFoundError

    try:
        resp = client.delete_by_query(
            index=index,
            body={"query": {"range": {"created_at": {"lt": f"now-{int(older_than_hours * 3600)}s"}}}},
            conflicts="proceed",
            refresh=True,
        )
    except NotFoundError:
        return 0
    return int(resp.get("deleted", 0))
