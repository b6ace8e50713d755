"""`newsdrift alerts sync`: make the alert-rules index mirror the rules file.

Each rule is one document (``_id`` = rule name); article rules carry their
percolator ``query``, plus one small "term" percolator doc per keyword/phrase
(``_id`` = ``<rule>:term:<n>``) so matching can report ``matched_terms`` exactly.
A stored ``rule_hash`` makes "unchanged" exact, so unchanged rules are not
rewritten. A rule OpenSearch refuses (a raw query on an unknown field, say) is
rejected by name and the others still sync; a rule rejected this time keeps
its previous version rather than silently vanishing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

from newsdrift.alert.matching import TERM_KIND
from newsdrift.alert.rules import ArticleMatch, ArticleRule, Rule, RuleProblem, RuleSet, article_query
from newsdrift.clock import iso, utcnow
from newsdrift.store.bulk import bulk_write, write_actions
from newsdrift.store.names import IndexNames

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rejected: list[RuleProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected": [
                {"name": p.name, "what": p.what, "problem": p.problem, "message": str(p)} for p in self.rejected
            ],
        }


def rule_document(rule: Rule, now: datetime | None = None) -> dict[str, Any]:
    """The alert-rules document of a rule."""
    doc: dict[str, Any] = {
        "rule_name": rule.name,
        "rule_kind": rule.kind,
        "channels": list(rule.channels),
        "mode": rule.mode,
        "enabled": rule.enabled,
        "rule_hash": rule.rule_hash(),
        "definition": rule.model_dump(mode="json"),
        "updated_at": iso(now or utcnow()),
    }
    if rule.every_minutes is not None:
        doc["digest_minutes"] = rule.every_minutes
    if isinstance(rule, ArticleRule):
        doc["query"] = rule.query()
        doc["exclude_near_duplicates"] = rule.match.exclude_near_duplicates
    return doc


def term_documents(rule: ArticleRule, now: datetime | None = None) -> list[tuple[str, dict[str, Any]]]:
    """One small percolator doc per positive term, so matching can tell which terms an article contains.

    Ids use ':' (not allowed in rule names), so they never collide with a rule's id.
    """
    stamp = iso(now or utcnow())
    return [
        (
            f"{rule.name}:term:{i}",
            {
                "rule_name": rule.name,
                "rule_kind": TERM_KIND,
                "enabled": rule.enabled,
                "rule_hash": rule.rule_hash(),
                "query": article_query(ArticleMatch(any=[term], include_off_topic=True)),
                "definition": {"term": term},
                "updated_at": stamp,
            },
        )
        for i, term in enumerate(rule.match.terms())
    ]


def stored_rules(client: OpenSearch, names: IndexNames) -> dict[str, dict[str, Any]]:
    """rule name -> stored rule document (without the query; term docs left out)."""
    resp = client.search(
        index=names.alert_rules,
        body={
            "size": 10_000,
            "query": {"bool": {"must_not": [{"term": {"rule_kind": TERM_KIND}}]}},
            "_source": {"excludes": ["query"]},
        },
    )
    return {h["_id"]: h["_source"] for h in resp["hits"]["hits"]}


def _delete_terms(client: OpenSearch, names: IndexNames, rule_name: str) -> None:
    client.delete_by_query(
        index=names.alert_rules,
        body={
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"rule_name": rule_name}},
                        {"term": {"rule_kind": TERM_KIND}},
                    ]
                }
            }
        },
        refresh=True,
        conflicts="proceed",
    )


def _write_rule(client: OpenSearch, names: IndexNames, rule: Rule, doc: dict[str, Any], now: datetime) -> None:
    """The rule doc first (OpenSearch validates its query), then its term docs replace the old ones."""
    client.index(index=names.alert_rules, id=rule.name, body=doc)
    _delete_terms(client, names, rule.name)
    if isinstance(rule, ArticleRule):
        outcomes = bulk_write(client, write_actions(names.alert_rules, term_documents(rule, now), op_type="index"))
        failed = [o for o in outcomes if not o.ok]
        if failed:  # matching still works; only matched_terms would miss these terms
            log.error("rule %s: %d term doc(s) not written: %s", rule.name, len(failed), failed[0].reason)


def _reason(exc: RequestError) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error")
    err: dict[str, Any] = error if isinstance(error, dict) else {}
    reason = err.get("reason") or str(exc.error)
    cause = err.get("caused_by") or {}
    if isinstance(cause, dict) and cause.get("reason") and cause.get("reason") != reason:
        reason += f" ({cause['reason']})"
    return reason


def sync_rules(client: OpenSearch, names: IndexNames, rules: RuleSet | Iterable[Rule]) -> SyncReport:
    """Register the rules, drop rules no longer in the file, report what changed."""
    ruleset = rules if isinstance(rules, RuleSet) else RuleSet(rules=list(rules))
    report = SyncReport(rejected=list(ruleset.rejected))
    current = stored_rules(client, names)
    now = utcnow()
    for rule in ruleset.rules:
        doc = rule_document(rule, now)
        previous = current.get(rule.name)
        if previous is not None and previous.get("rule_hash") == doc["rule_hash"]:
            report.unchanged.append(rule.name)
            continue
        try:
            _write_rule(client, names, rule, doc, now)
        except RequestError as exc:
            report.rejected.append(
                RuleProblem(rule.name, f"OpenSearch refused the rule: {_reason(exc)}", ruleset.origin)
            )
            continue
        (report.updated if previous is not None else report.created).append(rule.name)

    # Rejected rules are still in the file: keep their last good version instead of removing them.
    in_file = {r.name for r in ruleset.rules} | {p.name for p in report.rejected if p.what == "rule"}
    for name in sorted(set(current) - in_file):
        with contextlib.suppress(NotFoundError):
            client.delete(index=names.alert_rules, id=name)
        _delete_terms(client, names, name)
        report.removed.append(name)
    client.indices.refresh(index=names.alert_rules)  # percolation must see the new queries at once
    for problem in report.rejected:
        log.warning("%s", problem)
    log.info(
        "alert rules: %d created, %d updated, %d unchanged, %d removed, %d rejected",
        len(report.created),
        len(report.updated),
        len(report.unchanged),
        len(report.removed),
        len(report.rejected),
    )
    return report
