"""Every configuration file checked at start-up, before anything is polled or written.

Separate from ``newsdrift.settings`` because it reads each file with its own loader (feeds, topic,
frames, alert rules), and those loaders depend on the settings: dependencies point one way.
"""

from __future__ import annotations

from pathlib import Path

from newsdrift.alert.rules import load_rules
from newsdrift.feeds.catalog import load_feeds
from newsdrift.score.frames import load_frames
from newsdrift.score.topic import load_topic
from newsdrift.settings import Settings


def validate_all(settings: Settings, *, feeds_file: Path | str | None = None) -> None:
    """Check every configuration file before a pass polls or writes anything.

    Settings were validated when ``settings`` was built; this loads the feeds file (``feeds_file``
    or the settings' one), the topic profile, the frames file and the alert rules, and raises the
    first ``ConfigError``. Alert rules that are individually rejected do not fail it (they are
    reported when rules are synced); a missing rules file fails it only when one was named
    (NEWSDRIFT_ALERT_RULES_FILE), since alerting is optional.
    """
    load_feeds(Path(feeds_file) if feeds_file else settings.feeds_path)
    load_topic(settings.topic_path)
    load_frames(settings.frames_path)
    rules = settings.alert_rules_path
    if settings.alert_rules_file is not None or rules.exists():
        load_rules(rules)
