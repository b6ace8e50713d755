"""What the extraction workers run for one page: trafilatura, then the scores that need only the text."""

from __future__ import annotations

import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from newsdrift.records import Article, Failure, FeedEntry
from newsdrift.run.workers import process_pool
from newsdrift.score.dedup.minhash import Fingerprint
from newsdrift.score.stages import analyse_text
from newsdrift.settings import Settings

# below this many new entries, worker processes cost more to start than they save
PROCESS_POOL_MIN_ENTRIES = 40


@dataclass(slots=True)
class Extracted:
    """What an extraction worker returns for one page: the article and its text-only scores."""

    article: Article
    topic_relevance: float
    topic_terms: list[str]
    fingerprint: Fingerprint
    seconds: float = 0.0  # time in the worker
    # the stages' own text-only analyses (score.stages.analyse_text)
    analyses: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _topic_profile(path: str) -> Any:
    from newsdrift.score.topic import load_topic

    return load_topic(path)


def extract_and_score_text(page: Any, settings: Settings) -> Extracted | Failure:
    """Extraction plus the scores that need only the text (topic, MinHash): runs in the worker processes,
    next to trafilatura, so it overlaps with fetching instead of queueing in the indexing thread."""
    from extractors.article import extract_article

    started = time.perf_counter()
    article = extract_article(page, settings)
    if isinstance(article, Failure):
        return article
    scored = score_text(article, settings)
    scored.seconds = time.perf_counter() - started
    return scored


def score_text(article: Article, settings: Settings) -> Extracted:
    """The scores that need only the text: topic relevance, the MinHash fingerprint and the stages' own."""
    from newsdrift.score.dedup.minhash import fingerprint
    from newsdrift.score.topic import score_topic

    relevance, terms = score_topic(article.title, article.text, _topic_profile(str(settings.topic_path)))
    fp = fingerprint(article.text, settings.dedup_config())
    return Extracted(article, round(relevance, 4), terms, fp, analyses=analyse_text(article))


def feed_article_and_score(entry: FeedEntry, failure: Failure, settings: Settings) -> Extracted | None:
    """The entry as an article from its feed text (``text_source: feed``), scored like a page; None if too short."""
    from extractors.feedtext import article_from_feed

    article = article_from_feed(entry, failure, settings)
    return None if article is None else score_text(article, settings)


def extraction_executor(settings: Settings, entries: int) -> Executor:
    """Processes for real passes (trafilatura holds the GIL), threads for a handful of pages."""
    if entries >= PROCESS_POOL_MIN_ENTRIES and settings.extract_workers > 1:
        # Load what the workers run before they are forked: they inherit it instead of each
        # importing trafilatura and compiling the topic profile again (about a second per worker).
        import extractors.article  # noqa: F401
        import newsdrift.score.dedup.minhash  # noqa: F401

        _topic_profile(str(settings.topic_path))
        return process_pool(settings.extract_workers)  # workers die with this process
    return ThreadPoolExecutor(max_workers=settings.extract_workers, thread_name_prefix="extract")
