"""The pipeline's alerting stage: the last ``newsdrift.score.stages.Stage`` of a pass.

    scorers = [...topic, dedup, drift..., AlertingStage(settings, client, names)]   # last
    ... after each pass:  stage.after_pass()

``score`` matches each batch before it is indexed (one percolate request), so its
articles are indexed ``alert_state: matched``; ``after_pass`` matches whatever is
still ``pending`` in the index, then runs the
checks that do not depend on new articles (feed health, bursts, drift) and
delivers everything pending (new alerts and retries) once per pass, so it must
run even when a pass indexed nothing. The rules file
is re-read and re-synced whenever it changes.

Problems reach the run summary exactly once, one of two ways, never both:

- a step of the alerting cycle (matching, checks, delivery) that fails is a ``Failure``
  in ``CycleReport.failures`` (logged at DEBUG only); ``after_pass`` adds them to the
  summary with ``summary.add_error``;
- everything else this stage only logs (rules not reloaded, a batch left pending) is
  logged at WARNING or above, and the handler ``newsdrift.run.context.pass_context`` installs
  copies the log record into the summary (``log:alert...``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch

from newsdrift.alert.delivery import DeliveryPolicy
from newsdrift.alert.matching import match_batch
from newsdrift.alert.pending import MATCHED, mark_matched, pending_batches
from newsdrift.alert.rules import RuleSet, load_rules
from newsdrift.alert.service import CycleReport, run_cycle
from newsdrift.alert.sync import SyncReport, sync_rules
from newsdrift.errors import ConfigError
from newsdrift.records import RunSummary, ScoredArticle
from newsdrift.settings import Settings
from newsdrift.store.names import IndexNames

log = logging.getLogger(__name__)


class AlertingStage:
    """Alerts for each indexed batch and once per pass; never raises into the pipeline once built.

    Building it reads the rules file: a file that cannot be read or parsed refuses the pass
    before anything is indexed. A file broken later, mid-pass, keeps the last good rules.
    """

    def __init__(
        self,
        settings: Settings,
        client: OpenSearch,
        names: IndexNames,
        rules_path: Path | None = None,
        policy: DeliveryPolicy | None = None,
        resume_limit: int = 5000,
        pass_end: bool = True,
    ) -> None:
        self.client, self.names, self.policy = client, names, policy
        self.rules_path = rules_path or settings.alert_rules_path
        self.resume_limit = resume_limit
        self.drop_off_topic = settings.off_topic == "drop"
        self.pass_end = pass_end  # False: ``finish`` leaves checks and delivery to a later step
        self.ruleset = RuleSet()
        self.sync_report: SyncReport | None = None
        self._mtime: float | None = None
        # no rules file where none was asked for: alerting is off, and articles stay pending
        # (a rules file added later alerts on them)
        self.enabled = bool(rules_path or settings.alert_rules_file or self.rules_path.exists())
        if self.enabled:
            self.reload(strict=True)

    def reload(self, *, strict: bool = False) -> bool:
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
            if strict:
                raise
            log.error("alert rules not reloaded, the last good rules stay in use: %s", exc)
            return False
        self.sync_report = sync_rules(self.client, self.names, ruleset)
        self.ruleset, self._mtime = ruleset, mtime
        return True

    # --- the Stage interface --------------------------------------------------------------

    def score(self, batch: list[ScoredArticle], summary: RunSummary) -> None:
        """Percolate the batch before it is indexed (one request) and write its alerts.

        Articles whose alerts are written are indexed ``matched``; the rest ``pending``, and the
        end of the pass (or the next pass) matches them from the index. Matching first spares an
        update of every article after indexing; a pass killed in between leaves alerts (idempotent)
        for articles the next pass fetches and indexes again. Checks and delivery wait for the end
        of the pass.
        """
        if not self.enabled:
            return
        # articles that will not be indexed (off topic, dropped) are not alerted on
        wanted = [i for i in batch if not (self.drop_off_topic and i.off_topic)]
        if not wanted:
            return
        matched = self.match([(i.article.id, i.to_document()) for i in wanted], summary, mark=False)
        for item in wanted:
            if item.article.id in matched:
                item.alert_state = MATCHED

    def after_index(self, indexed: list[ScoredArticle], summary: RunSummary) -> None:
        """Nothing after indexing: the batch was matched while it was scored."""

    def after_pass(self, summary: RunSummary | None = None) -> CycleReport:
        """Articles left unmatched (by a dead pass or a failed batch), then feed health, bursts, drift and
        delivery (call once per pass, even an empty one)."""
        if not self.enabled:
            return CycleReport()
        self.resume_pending(summary)
        report = self._cycle(())
        self._count(report, summary)
        self._record_failures(report, summary)
        return report

    def finish(self, summary: RunSummary | None = None) -> None:
        """The pipeline's once-per-pass hook (runs after drift has written its events)."""
        if self.pass_end:
            self.after_pass(summary)

    def resume_pending(self, summary: RunSummary | None = None) -> int:
        """Match articles still ``pending`` (indexed, never matched); returns how many were looked at."""
        seen = 0
        try:
            self.reload()
            for docs in pending_batches(self.client, self.names, limit=self.resume_limit):
                seen += len(docs)
                self.match(docs, summary)
        except Exception:
            log.exception("unmatched articles could not be matched; the next pass retries")
        return seen

    # --- internals ---------------------------------------------------------------------------

    def match(
        self, docs: list[tuple[str, dict[str, Any]]], summary: RunSummary | None, *, mark: bool = True
    ) -> set[str]:
        """Match and return the ids resolved (their alerts written); with ``mark``, also set them
        ``matched`` in the index. Whatever fails stays pending for the next pass."""
        try:
            self.reload()
            result = match_batch(self.client, self.names, docs, self.ruleset.rules)
        except Exception:  # alerting never stops indexing; the articles stay pending, a later pass retries
            log.exception("alert matching failed for a batch of %d articles; they stay pending", len(docs))
            return set()
        if summary is not None:
            # alerts created; copies folded into an alert (of an earlier batch, or another writer's)
            # are not new alerts, and counting them made a run report more alerts than it stored
            summary.alerts += result.created
        if result.unresolved:
            log.error("%d article(s) stay pending: their alerts could not be written", len(result.unresolved))
        resolved = {i for i, _ in docs if i not in result.unresolved}
        if not mark:
            return resolved
        try:
            outcomes = mark_matched(self.client, self.names, resolved)
        except Exception:  # matched twice later is harmless: alerts are idempotent
            log.exception("%d matched article(s) could not be marked; the next pass matches them again", len(docs))
            return set()
        for outcome in outcomes:
            if not outcome.ok:
                log.error("article %s stays pending: %s", outcome.doc_id, outcome.reason)
        return {o.doc_id for o in outcomes if o.ok}

    def _cycle(self, docs: Any) -> CycleReport:
        try:
            self.reload()
        except Exception:
            log.exception("alert rules could not be synced; using the previous rules")
        return run_cycle(self.client, self.names, self.ruleset, docs, policy=self.policy)

    @staticmethod
    def _count(report: CycleReport, summary: RunSummary | None) -> None:
        if summary is not None:
            summary.alerts += len(report.alerts)

    @staticmethod
    def _record_failures(report: CycleReport, summary: RunSummary | None) -> None:
        """The cycle's failed steps into the summary (they are not logged above DEBUG, so not captured twice)."""
        if summary is not None:
            for failure in report.failures:
                summary.add_error(failure)
