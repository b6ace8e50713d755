"""Article rules: percolate a batch in one request, make one alert per (rule, story).

Each alert's id is ``stable_id(rule, story)``, the story being the lead article's
``story_cluster_id`` (its own id when it has none), and it is written with
``op_type=create``, so a re-run never alerts twice, and two writers matching copies of
one story at once (their cluster ids agree, see ``newsdrift.score.dedup``) make one alert: the
second create finds it and folds its copies in. Articles of one story
(linked by ``story_cluster_id`` / ``near_duplicate_of`` / ``duplicate_of``) are
folded into a single alert's ``copies`` instead of making new ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError, TransportError

from newsdrift.alert.documents import (
    MAX_COPY_DETAILS,
    alert_from_document,
    alert_to_document,
    copy_detail,
    create_alerts,
    digest_due,
    fold_copies,
)
from newsdrift.alert.messages import render_message
from newsdrift.alert.rules import ArticleRule, Rule
from newsdrift.clock import parse_time, utcnow
from newsdrift.records import Alert, stable_id
from newsdrift.store.names import IndexNames

log = logging.getLogger(__name__)

TERM_KIND = "term"  # per-term percolator docs written by sync_rules
# Fields of the alert-rules index that belong to the rule, not to the article being percolated.
_RULE_FIELDS = frozenset(
    {
        "rule_name",
        "rule_kind",
        "query",
        "channels",
        "mode",
        "digest_minutes",
        "enabled",
        "exclude_near_duplicates",
        "rule_hash",
        "definition",
        "updated_at",
    }
)
_SKIP_FIELDS = frozenset({"minhash"})  # not indexed: only makes the request bigger
_MAPPING_TTL = 60.0
_mapping_cache: dict[str, tuple[float, dict[str, Any]]] = {}


@dataclass
class _Match:
    """One article matched by one rule."""

    slot: int
    article_id: str
    doc: dict[str, Any]
    matched_terms: list[str] = field(default_factory=list)

    @property
    def is_duplicate(self) -> bool:
        d = self.doc
        return bool(d.get("near_duplicate_of") or d.get("duplicate_of") or d.get("duplicate_kind"))

    @property
    def links(self) -> set[str]:
        """Ids that tie this article to its story."""
        d = self.doc
        keys = {self.article_id, d.get("story_cluster_id"), d.get("near_duplicate_of"), d.get("duplicate_of")}
        return {str(k) for k in keys if k}


# --- percolation -------------------------------------------------------------------


def _article_properties(client: OpenSearch, index: str) -> dict[str, Any]:
    """The article-field mappings of the rules index (cached briefly; one GET otherwise per batch)."""
    cached = _mapping_cache.get(index)
    if cached and time.monotonic() - cached[0] < _MAPPING_TTL:
        return cached[1]
    mapping = client.indices.get_mapping(index=index)
    props = next(iter(mapping.values()))["mappings"].get("properties", {})
    props = {k: v for k, v in props.items() if k not in _RULE_FIELDS}
    _mapping_cache[index] = (time.monotonic(), props)
    return props


def _conform(doc: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """Only mapped fields: the rules index is ``dynamic: strict``, so one stray field would fail the batch."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        spec = props.get(key)
        if spec is None or key in _SKIP_FIELDS or value is None:
            continue
        if "properties" in spec and isinstance(value, dict):
            value = _conform(value, spec["properties"])
        out[key] = value
    return out


def _percolate_request(
    client: OpenSearch, index: str, documents: list[dict[str, Any]], rule_names: list[str]
) -> list[dict[str, Any]]:
    # Rule docs and their term docs (see sync.py) in one request: term hits say which terms matched.
    body = {
        "size": 10_000,
        "_source": ["rule_name", "rule_kind", "definition.term"],
        "query": {
            "bool": {
                "must": [{"percolate": {"field": "query", "documents": documents}}],
                "filter": [
                    {"terms": {"rule_name": rule_names}},
                    {"terms": {"rule_kind": ["article", TERM_KIND]}},
                ],
                "must_not": [{"term": {"enabled": False}}],
            }
        },
    }
    return client.search(index=index, body=body)["hits"]["hits"]


def _collect(
    hits: list[dict[str, Any]],
    slot_of: Callable[[int], int],
    found: dict[str, dict[int, list[str]]],
    terms: dict[tuple[str, int], set[str]],
) -> None:
    for hit in hits:
        src = hit["_source"]
        slots = [slot_of(int(s)) for s in hit.get("fields", {}).get("_percolator_document_slot", [])]
        for slot in slots:
            if src.get("rule_kind") == TERM_KIND:
                terms.setdefault((src["rule_name"], slot), set()).add((src.get("definition") or {}).get("term", ""))
            else:
                found.setdefault(src["rule_name"], {})[slot] = []
    for rule_name, slots_of_rule in found.items():
        for slot in slots_of_rule:
            slots_of_rule[slot] = sorted(terms.get((rule_name, slot), set()))


def _always(slot: int) -> Callable[[int], int]:
    """A slot mapping for a request of one document: its only slot (0) is ``slot``."""
    return lambda _s: slot


def percolate(
    client: OpenSearch, names: IndexNames, docs: Sequence[tuple[str, dict[str, Any]]], rule_names: list[str]
) -> dict[str, dict[int, list[str]]]:
    """rule name -> {matched slot: matched terms}, for the whole batch in one request.

    If OpenSearch rejects the batch (a malformed document), each document is
    percolated alone so the bad one is skipped and logged, not the batch.
    """
    props = _article_properties(client, names.alert_rules)
    documents = [_conform(doc, props) for _, doc in docs]
    found: dict[str, dict[int, list[str]]] = {}
    terms: dict[tuple[str, int], set[str]] = {}
    try:
        _collect(_percolate_request(client, names.alert_rules, documents, rule_names), lambda s: s, found, terms)
        return found
    except RequestError as exc:
        log.warning("percolating %d documents failed (%s); retrying one by one", len(documents), exc.error)
    for slot, document in enumerate(documents):
        try:
            hits = _percolate_request(client, names.alert_rules, [document], rule_names)
        except RequestError as exc:
            log.error("article %s cannot be matched against the rules: %s", docs[slot][0], _error_text(exc))
            continue
        _collect(hits, _always(slot), found, terms)
    return found


def _error_text(exc: TransportError) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    reason = (info.get("error") or {}).get("reason") if isinstance(info.get("error"), dict) else None
    return f"{exc.error}: {reason}" if reason else str(exc.error)


# --- alerts ------------------------------------------------------------------------------


def _reasons(rule: ArticleRule, doc: dict[str, Any]) -> list[str]:
    """Why the non-keyword conditions held, in words."""
    m = rule.match
    out = []
    if m.min_topic_relevance is not None and doc.get("topic_relevance") is not None:
        out.append(f"topic relevance {float(doc['topic_relevance']):.2f} >= {m.min_topic_relevance:.2f}")
    if m.min_novelty is not None and doc.get("novelty") is not None:
        out.append(f"novelty {float(doc['novelty']):.2f} >= {m.min_novelty:.2f}")
    if m.sources:
        out.append(f"source {doc.get('source')!r} is one of the watched sources")
    if m.languages:
        out.append(f"language {doc.get('language')!r} is one of {', '.join(m.languages)}")
    if m.query:
        out.append("matched the rule's query")
    return out


def _groups(matches: list[_Match]) -> list[list[_Match]]:
    """Matches of one rule grouped by story (union of shared link ids), in batch order."""
    parent = list(range(len(matches)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, m in enumerate(matches):
        for key in m.links:
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    grouped: dict[int, list[_Match]] = {}
    for i, m in enumerate(matches):
        grouped.setdefault(find(i), []).append(m)
    return list(grouped.values())


def _lead(group: list[_Match]) -> _Match:
    """The article an alert is about: an original before a copy, then the earliest published."""
    far_future = datetime.max.replace(tzinfo=UTC)
    return min(
        group,
        key=lambda m: (m.is_duplicate, parse_time(m.doc.get("published_at")) or far_future, m.slot),
    )


def _existing(client: OpenSearch, names: IndexNames, rules: Iterable[str], keys: set[str]) -> list[dict[str, Any]]:
    """Alerts of these rules already tied to any of these story/article ids (oldest first)."""
    if not keys:
        return []
    key_list = sorted(keys)
    resp = client.search(
        index=names.alerts,
        body={
            "size": 1000,
            "sort": [{"created_at": "asc"}],
            "_source": ["alert_id", "rule_name", "article_id", "story_cluster_id", "copies"],
            "query": {
                "bool": {
                    "filter": [{"terms": {"rule_name": sorted(rules)}}, {"term": {"kind": "article"}}],
                    "should": [{"terms": {f: key_list}} for f in ("article_id", "story_cluster_id", "copies")],
                    "minimum_should_match": 1,
                }
            },
        },
    )
    return [h["_source"] for h in resp["hits"]["hits"]]


def _new_alert(rule: ArticleRule, lead: _Match, copies: list[_Match], now: datetime) -> Alert:
    doc = lead.doc
    details: dict[str, Any] = {
        "article_id": lead.article_id,
        "article_url": doc.get("canonical_url") or doc.get("url"),
        "source": doc.get("source"),
        "published_at": doc.get("published_at"),
        "matched_terms": lead.matched_terms,
        "story_cluster_id": doc.get("story_cluster_id"),
        "copies": [c.article_id for c in copies],
        "copy_count": len(copies),
        "mode": rule.mode,
        "digest_due_at": digest_due(now, rule.every_minutes) if rule.mode == "digest" and rule.every_minutes else None,
        "reasons": _reasons(rule, doc),
        "copy_details": [copy_detail(c.article_id, c.doc) for c in copies][:MAX_COPY_DETAILS],
        "language": doc.get("language"),
        "topic_relevance": doc.get("topic_relevance"),
        "novelty": doc.get("novelty"),
        "duplicate_kind": doc.get("duplicate_kind"),
    }
    alert = Alert(
        id=stable_id(rule.name, str(doc.get("story_cluster_id") or lead.article_id)),
        rule=rule.name,
        kind="article",
        subject_id=lead.article_id,
        title=str(doc.get("title") or lead.article_id),
        message="",
        created_at=now,
        channels=list(rule.channels),
        details={k: v for k, v in details.items() if v is not None},
    )
    alert.message = render_message(alert_to_document(alert, now))
    return alert


@dataclass
class MatchResult:
    """Alerts created or extended by a batch, and the articles whose alert could not be written."""

    alerts: list[Alert] = field(default_factory=list)
    unresolved: set[str] = field(default_factory=set)
    created: int = 0  # of ``alerts``, those this call created (the rest had copies folded in)


def match_articles(
    client: OpenSearch,
    names: IndexNames,
    docs: Sequence[tuple[str, dict[str, Any]]],
    rules: Iterable[Rule],
    now: datetime | None = None,
) -> list[Alert]:
    """Match a batch of (article_id, document) against the article rules; write and return the alerts.

    Returns the alerts this call created plus those it folded new copies into;
    a re-run of the same batch returns an empty list and writes nothing.
    Rules must have been registered with ``sync_rules`` (matching filters on these rules' names).
    """
    return match_batch(client, names, docs, rules, now).alerts


def match_batch(
    client: OpenSearch,
    names: IndexNames,
    docs: Sequence[tuple[str, dict[str, Any]]],
    rules: Iterable[Rule],
    now: datetime | None = None,
) -> MatchResult:
    """``match_articles`` that also says which articles must be matched again (their alert write failed)."""
    now = now or utcnow()
    article_rules = {r.name: r for r in rules if isinstance(r, ArticleRule) and r.enabled}
    result = MatchResult()
    if not docs or not article_rules:
        return result
    found = percolate(client, names, docs, sorted(article_rules))
    matches: dict[str, list[_Match]] = {}
    for rule_name, slots in found.items():
        if rule_name not in article_rules:
            continue
        order = {t: i for i, t in enumerate(article_rules[rule_name].match.terms())}
        matches[rule_name] = [
            _Match(s, str(docs[s][0]), docs[s][1], sorted(terms, key=lambda t: order.get(t, len(order))))
            for s, terms in sorted(slots.items())
        ]
    if not matches:
        return result

    all_keys = {k for ms in matches.values() for m in ms for k in m.links}
    existing = _existing(client, names, matches, all_keys)
    results = result.alerts
    to_create: list[tuple[Alert, list[_Match]]] = []
    for rule_name, ms in matches.items():
        rule = article_rules[rule_name]
        mine = [e for e in existing if e["rule_name"] == rule_name]
        for group in _groups(ms):
            keys = set().union(*(m.links for m in group))
            target = next((e for e in mine if keys & _alert_keys(e)), None)
            if target is not None:
                updated = _fold(client, names, target["alert_id"], group)
                if updated:
                    results.append(alert_from_document(updated))
                continue
            lead = _lead(group)
            if rule.match.exclude_near_duplicates and lead.is_duplicate:
                continue  # copies of a story this rule never alerted on
            copies = [m for m in group if m is not lead]
            to_create.append((_new_alert(rule, lead, copies, now), group))

    outcomes = create_alerts(client, names, [a for a, _ in to_create])
    for (alert, group), outcome in zip(to_create, outcomes, strict=True):
        if outcome.status == "created":
            results.append(alert)
            result.created += 1
        elif outcome.status == "exists":
            # Written by an earlier run the lookup did not see: fold instead of re-alerting.
            updated = _fold(client, names, alert.id, group)
            if updated:
                results.append(alert_from_document(updated))
        elif outcome.status == "failed":
            result.unresolved.update(m.article_id for m in group)
    if results:
        log.info(
            "%d alert(s) from %d article(s): %s", len(results), len(docs), ", ".join(sorted({a.rule for a in results}))
        )
    return result


def _alert_keys(alert_doc: dict[str, Any]) -> set[str]:
    keys = {alert_doc.get("article_id"), alert_doc.get("story_cluster_id"), *(alert_doc.get("copies") or [])}
    return {str(k) for k in keys if k}


def _fold(client: OpenSearch, names: IndexNames, alert_id: str, group: list[_Match]) -> dict[str, Any] | None:
    cluster = next((m.doc.get("story_cluster_id") for m in group if m.doc.get("story_cluster_id")), None)
    return fold_copies(client, names, alert_id, [(m.article_id, m.doc) for m in group], render_message, cluster)


__all__ = ["MatchResult", "match_articles", "match_batch", "percolate"]
