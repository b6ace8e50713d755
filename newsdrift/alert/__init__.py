"""Alerting: rules (config/alerts.yaml) as percolator queries, alert records, delivery through apprise.

Flow per pipeline batch: ``match_articles`` (percolate, fold copies) and
``check_all`` (bursts, feed health, drift) write alert records at most once
each; ``deliver_pending`` sends whatever is undelivered. ``run_cycle`` does all three.
"""

from newsdrift.alert.channels import RetryPolicy, SendResult, send, test_channel
from newsdrift.alert.delivery import DeliveryPolicy, DeliveryReport, deliver_pending
from newsdrift.alert.matching import match_articles
from newsdrift.alert.monitors import check_all, check_drift_events, check_duplicate_bursts, check_feed_health
from newsdrift.alert.rules import (
    ArticleMatch,
    ArticleRule,
    Channel,
    ChannelUnavailable,
    DriftRule,
    DuplicateBurstRule,
    FeedHealthRule,
    Rule,
    RuleProblem,
    RuleSet,
    load_rules,
    parse_rules,
)
from newsdrift.alert.service import CycleReport, list_alerts, run_cycle
from newsdrift.alert.sync import SyncReport, sync_rules
from newsdrift.secrets import redact

__all__ = [
    "ArticleMatch",
    "ArticleRule",
    "Channel",
    "ChannelUnavailable",
    "CycleReport",
    "DeliveryPolicy",
    "DeliveryReport",
    "DriftRule",
    "DuplicateBurstRule",
    "FeedHealthRule",
    "RetryPolicy",
    "Rule",
    "RuleProblem",
    "RuleSet",
    "SendResult",
    "SyncReport",
    "check_all",
    "check_drift_events",
    "check_duplicate_bursts",
    "check_feed_health",
    "deliver_pending",
    "list_alerts",
    "load_rules",
    "match_articles",
    "parse_rules",
    "redact",
    "run_cycle",
    "send",
    "sync_rules",
    "test_channel",
]
