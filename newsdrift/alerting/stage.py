"""The pipeline's alerting stage: a ``Scorer``-shaped object for ``newsdrift.pipeline``.

    scorers = [...topic, dedup, drift..., AlertingStage(settings, client, names)]   # last
    ... after each pass:  stage.after_pass()

``after_index`` matches the freshly indexed batch (full documents, before the
pipeline drops the bodies) with one percolate request; ``after_pass`` runs the
checks that do not depend on new articles (feed health, bursts, drift) and
delivers everything pending (new alerts and retries) once per pass, so it must
run even when a pass indexed nothing. The rules file
is re-read and re-synced whenever it changes. It does not import
``newsdrift.pipeline`` (no import cycle); it only has the same method names.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.alerting.delivery import DeliveryPolicy
from newsdrift.alerting.matching import match_articles
from newsdrift.alerting.rules import RuleSet, load_rules
from newsdrift.alerting.service import CycleReport, run_cycle
from newsdrift.alerting.sync import sync_rules
from newsdrift.config import Settings
from newsdrift.errors import ConfigError
from newsdrift.store import IndexNames

log = logging.getLogger(__name__)


class AlertingStage:
    """Alerts for each indexed batch and once per pass; never raises into the pipeline."""

    def __init__(self, settings: Settings, client: OpenSearch, names: IndexNames,
                 rules_path: Path | None = None, policy: DeliveryPolicy | None = None) -> None:
        self.client, self.names, self.policy = client, names, policy
        self.rules_path = rules_path or settings.alert_rules_path
        self.ruleset = RuleSet()
        self._mtime: float | None = None
        self.reload()

    def reload(self) -> bool:
        """Re-read and sync the rules file if it changed; keep the last good rules if it cannot be read."""
        try:
            mtime = self.rules_path.stat().st_mtime
        except OSError:
            mtime = None
        if mtime == self._mtime and self._mtime is not None:
            return False
        try:
            ruleset = load_rules(self.rules_path)
        except ConfigError as exc:
            log.error("alert rules not reloaded: %s", exc)
            return False
        sync_rules(self.client, self.names, ruleset)
        self.ruleset, self._mtime = ruleset, mtime
        return True

    # --- the Scorer interface -------------------------------------------------------------

    def score(self, batch: list[Any], summary: Any) -> None:
        """Nothing to score: alerting reads what the other stages computed."""

    def after_index(self, indexed: list[Any], summary: Any) -> None:
        """Percolate the batch (one request); checks and delivery wait for the end of the pass."""
        if not indexed:
            return
        docs = [(item.article.id, item.to_document()) for item in indexed]
        try:
            self.reload()
            matched = match_articles(self.client, self.names, docs, self.ruleset.rules)
        except Exception:  # alerting never stops indexing; the records are idempotent, a later pass retries
            log.exception("alert matching failed for a batch of %d articles", len(docs))
            return
        if summary is not None and hasattr(summary, "alerts"):
            summary.alerts += len(matched)

    def after_pass(self, summary: Any = None) -> CycleReport:
        """Feed health, bursts, drift and delivery retries (call once per pass, even an empty one)."""
        report = self._cycle(())
        self._count(report, summary)
        return report

    def finish(self, summary: Any = None) -> None:
        """The pipeline's once-per-pass hook (runs after drift has written its events)."""
        self.after_pass(summary)

    # --- internals ---------------------------------------------------------------------------

    def _cycle(self, docs: Any) -> CycleReport:
        try:
            self.reload()
        except Exception:
            log.exception("alert rules could not be synced; using the previous rules")
        return run_cycle(self.client, self.names, self.ruleset, docs, policy=self.policy)

    @staticmethod
    def _count(report: CycleReport, summary: Any) -> None:
        if summary is not None and hasattr(summary, "alerts"):
            summary.alerts += len(report.alerts)
