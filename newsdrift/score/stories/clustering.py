"""Online story clustering: each new article joins the most similar open story or starts one.

Similarity is a cosine over content terms weighted by their rarity in the stream (document frequencies
counted as articles arrive), names and numbers kept as terms of their own, mixed from the story's centroid and its
closest recent member. A join also needs several shared terms (one shared word is never enough), because a
false merge would claim that two newsrooms corroborated each other. Deterministic for a given input order;
a story's id is its first article's id, and an article's story never changes once assigned. An article
that could join two open stories may bridge one event told twice: if the two centroids are alike as well,
the younger story is merged into the older, recorded in ``merges`` and followed by ``resolve``. The centroid
test keeps a generic headline ("Miley Cyrus ...") from bridging two events about the same person.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsdrift.score.stories.features import Features, NameLexicon, extract
from newsdrift.score.stories.settings import StorySettings


@dataclass(frozen=True)
class StoryArticle:
    """What the clusterer needs of an article; ``text`` may be empty (headlines)."""

    id: str
    outlet: str
    published_at: datetime
    title: str
    text: str = ""


@dataclass(frozen=True)
class Assignment:
    """The story an article joined (or started, ``started``) and the similarity it joined with."""

    article_id: str
    story_id: str
    score: float
    started: bool


@dataclass
class _Story:
    id: str
    seq: int
    first: datetime
    last: datetime
    centroid: dict[str, float] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    members: deque[Features] = field(default_factory=deque)
    outlets: set[str] = field(default_factory=set)
    size: int = 0


class StoryClusterer:
    """Incremental clusterer over a sliding window; feed articles with ``add`` in publication order."""

    def __init__(self, settings: StorySettings | None = None) -> None:
        self.settings = settings or StorySettings()
        self._window = timedelta(hours=self.settings.story_window_hours)
        self._lexicon = NameLexicon()
        self._df: dict[str, int] = {}
        self._seen = 0
        self._open: dict[str, _Story] = {}
        self._index: dict[str, set[str]] = {}
        self._assigned: dict[str, Assignment] = {}
        self._next_seq = 0
        self._latest: datetime | None = None
        self._swept: datetime | None = None
        self._merged_into: dict[str, str] = {}

    @property
    def assignments(self) -> dict[str, Assignment]:
        """Every article's assignment so far, by article id."""
        return dict(self._assigned)

    @property
    def merges(self) -> dict[str, str]:
        """Merged story id -> the story it was merged into, in merge order."""
        return dict(self._merged_into)

    def story_of(self, article_id: str) -> str | None:
        """The story the article was assigned to (never changes; see ``resolve`` for merges)."""
        found = self._assigned.get(article_id)
        return found.story_id if found else None

    def resolve(self, story_id: str) -> str:
        """The story a story id stands for now, after merges."""
        while story_id in self._merged_into:
            story_id = self._merged_into[story_id]
        return story_id

    def open_stories(self) -> list[str]:
        """Ids of the stories still inside the window, oldest first."""
        return [story.id for story in sorted(self._open.values(), key=lambda s: s.seq)]

    def add(self, article: StoryArticle) -> Assignment:
        """Assign ``article`` to a story; adding the same article id again returns its first assignment."""
        if article.id in self._assigned:
            return self._assigned[article.id]
        self._sweep(article.published_at)
        features = extract(article.title, article.text, self._lexicon)
        self._seen += 1
        for term in features.terms:
            self._df[term] = self._df.get(term, 0) + 1
        scored = self._scored_stories(article, features)
        best, best_score = scored[0] if scored else (None, 0.0)
        if best is None:
            best = _Story(article.id, self._next_seq, article.published_at, article.published_at)
            self._next_seq += 1
            self._open[best.id] = best
            assignment = Assignment(article.id, best.id, 0.0, True)
        else:
            assignment = Assignment(article.id, best.id, best_score, False)
        self._join(best, article, features)
        self._assigned[article.id] = assignment
        for other, _ in scored[1:]:
            if self._story_similarity(best, other) >= self.settings.story_merge_threshold:
                best = self._merge(other, best)
        return assignment

    def score(self, article: StoryArticle, story_id: str) -> float:
        """Similarity of a (not yet added) article to an open story, without learning from it."""
        story = self._open.get(story_id)
        if story is None:
            return 0.0
        return self._similarity(extract(article.title, article.text, self._lexicon, learn=False), story)

    def _idf(self, term: str) -> float:
        return math.log((self._seen + 1) / (self._df.get(term, 0) + 1)) + 1.0

    def _weight(self, term: str, names: set[str] | frozenset[str]) -> float:
        boost = self.settings.story_name_boost if term in names else 1.0
        return self._idf(term) * boost

    def _cosine(
        self,
        features: Features,
        other: dict[str, float],
        other_names: set[str] | frozenset[str],
    ) -> float:
        dot = 0.0
        for term, count in features.terms.items():
            if term in other:
                dot += count * other[term] * self._weight(term, features.names) * self._weight(term, other_names)
        if dot == 0.0:
            return 0.0
        own = math.sqrt(sum((c * self._weight(t, features.names)) ** 2 for t, c in features.terms.items()))
        theirs = math.sqrt(sum((c * self._weight(t, other_names)) ** 2 for t, c in other.items()))
        return dot / (own * theirs)

    def _similarity(self, features: Features, story: _Story) -> float:
        if sum(1 for term in features.terms if term in story.centroid) < self.settings.story_min_shared:
            return 0.0
        centroid = self._cosine(features, story.centroid, story.names)
        closest = max(self._cosine(features, member.terms, member.names) for member in story.members)
        mix = self.settings.story_member_weight
        return (1.0 - mix) * centroid + mix * closest

    def _story_similarity(self, one: _Story, other: _Story) -> float:
        """Cosine between two story centroids: how alike the two stories are as a whole."""
        as_features = Features(terms=one.centroid, names=frozenset(one.names))
        return self._cosine(as_features, other.centroid, other.names)

    def _scored_stories(self, article: StoryArticle, features: Features) -> list[tuple[_Story, float]]:
        """Open stories within the window the article could join, best first (ties: the older story)."""
        candidate_ids: set[str] = set()
        for term in features.terms:
            candidate_ids.update(self._index.get(term, ()))
        scored: list[tuple[_Story, float]] = []
        for story in (self._open[i] for i in candidate_ids):
            if not story.first - self._window <= article.published_at <= story.last + self._window:
                continue
            similarity = self._similarity(features, story)
            if similarity >= self.settings.story_threshold:
                scored.append((story, similarity))
        scored.sort(key=lambda pair: (-pair[1], pair[0].seq))
        return scored

    def _merge(self, one: _Story, other: _Story) -> _Story:
        """Fold the younger of two stories into the older one."""
        keep, gone = (one, other) if one.seq < other.seq else (other, one)
        for term, count in gone.centroid.items():
            ids = self._index[term]
            ids.discard(gone.id)
            ids.add(keep.id)
            keep.centroid[term] = keep.centroid.get(term, 0.0) + count
        keep.names.update(gone.names)
        keep.members.extend(gone.members)
        while len(keep.members) > self.settings.story_recent_members:
            keep.members.popleft()
        keep.outlets.update(gone.outlets)
        keep.size += gone.size
        keep.first = min(keep.first, gone.first)
        keep.last = max(keep.last, gone.last)
        del self._open[gone.id]
        self._merged_into[gone.id] = keep.id
        return keep

    def _join(self, story: _Story, article: StoryArticle, features: Features) -> None:
        for term, count in features.terms.items():
            if term not in story.centroid:
                self._index.setdefault(term, set()).add(story.id)
            story.centroid[term] = story.centroid.get(term, 0.0) + count
        story.names.update(features.names)
        story.members.append(features)
        if len(story.members) > self.settings.story_recent_members:
            story.members.popleft()
        story.outlets.add(article.outlet)
        story.size += 1
        story.first = min(story.first, article.published_at)
        story.last = max(story.last, article.published_at)

    def _sweep(self, now: datetime) -> None:
        """Close stories whose latest article is a whole window behind the newest article seen."""
        self._latest = now if self._latest is None else max(self._latest, now)
        if self._swept is not None and self._latest - self._swept < self._window / 8:
            return
        self._swept = self._latest
        horizon = self._latest - self._window
        for story_id in [i for i, s in self._open.items() if s.last < horizon]:
            story = self._open.pop(story_id)
            for term in story.centroid:
                ids = self._index.get(term)
                if ids is not None:
                    ids.discard(story_id)
                    if not ids:
                        del self._index[term]
