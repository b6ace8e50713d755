"""Story clustering on hand-written headlines: paraphrases across outlets join, hard negatives and stale
articles stay apart, and ids are deterministic and stable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsdrift.score.stories.clustering import Assignment, StoryArticle, StoryClusterer
from newsdrift.score.stories.features import NameLexicon, extract, stem
from newsdrift.score.stories.settings import StorySettings

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)

# Unrelated headlines first, so document frequencies look like a real stream.
BACKGROUND = [
    ("bg1", "Daily Planet", "Oil prices slip as traders weigh Chinese demand"),
    ("bg2", "Courier", "Storm brings heavy snow to northern towns"),
    ("bg3", "Gazette", "Central bank holds interest rates steady"),
    ("bg4", "Herald", "Football club names new head coach"),
]


def article(id_: str, outlet: str, title: str, hours: float = 0.0, text: str = "") -> StoryArticle:
    return StoryArticle(id_, outlet, T0 + timedelta(hours=hours), title, text)


def feed(clusterer: StoryClusterer, items: list[tuple[str, str, str, float]]) -> list[Assignment]:
    for id_, outlet, title in BACKGROUND:
        clusterer.add(article(id_, outlet, title))
    return [clusterer.add(article(id_, outlet, title, hours)) for id_, outlet, title, hours in items]


SAME_EVENT = [
    ("a1", "Reuters", "Malaysia Airlines flight MH370 missing with 239 people on board", 1.0),
    ("a2", "BBC", "Search widens for missing Malaysia Airlines jet MH370", 2.0),
    ("a3", "Guardian", "Vietnam joins search for vanished Malaysia Airlines flight", 3.5),
]

HARD_NEGATIVE = [
    ("b1", "Reuters", "Apple settles e-book price-fixing lawsuit with states", 1.0),
    ("b2", "Bloomberg", "Apple to pay $450 million in e-book price-fixing settlement", 2.0),
    ("b3", "Verge", "Apple unveils iPhone sapphire screen factory in Arizona", 2.5),
    ("b4", "Wired", "Inside the Arizona sapphire factory Apple built for iPhone screens", 4.0),
]


def test_same_event_in_different_words_joins_one_story() -> None:
    got = feed(StoryClusterer(), SAME_EVENT)
    assert [a.story_id for a in got] == ["a1", "a1", "a1"]
    assert [a.started for a in got] == [True, False, False]
    assert all(a.score >= StorySettings().story_threshold for a in got[1:])


def test_same_company_in_two_events_on_one_day_stays_apart() -> None:
    got = feed(StoryClusterer(), HARD_NEGATIVE)
    assert [a.story_id for a in got] == ["b1", "b1", "b3", "b3"]


def test_one_shared_name_is_not_enough() -> None:
    clusterer = StoryClusterer(StorySettings(story_threshold=0.01))
    got = feed(clusterer, [HARD_NEGATIVE[0], HARD_NEGATIVE[2]])
    assert [a.story_id for a in got] == ["b1", "b3"]


def test_articles_outside_the_window_never_join() -> None:
    clusterer = StoryClusterer(StorySettings(story_window_hours=72))
    first, second = SAME_EVENT[0], SAME_EVENT[1]
    late = ("late", "AP", second[2], first[3] + 72.5)
    got = feed(clusterer, [first, late])
    assert [a.story_id for a in got] == ["a1", "late"]
    assert got[1].started
    assert "a1" not in clusterer.open_stories()


def test_inside_the_window_joins_at_the_edge() -> None:
    first, second = SAME_EVENT[0], SAME_EVENT[1]
    got = feed(StoryClusterer(), [first, ("edge", "AP", second[2], first[3] + 71.5)])
    assert [a.story_id for a in got] == ["a1", "a1"]


def test_ids_are_deterministic_and_stable() -> None:
    items = SAME_EVENT + HARD_NEGATIVE
    items = sorted(items, key=lambda item: item[3])
    one, two = StoryClusterer(), StoryClusterer()
    first_run = feed(one, items)
    assert first_run == feed(two, items)
    before = one.assignments
    one.add(article("later", "AP", "Malaysia Airlines MH370 search enters fifth day", 30.0))
    assert {k: v for k, v in one.assignments.items() if k in before} == before
    assert one.story_of("later") == "a1"
    assert one.add(article("a2", "BBC", "anything else entirely", 40.0)) == before["a2"]


BOSSY = [
    ("m1", "Reuters", "Beyonce backs campaign to ban the word bossy", 1.0),
    ("m2", "AP", "Sheryl Sandberg wants girls called leaders not bossy", 1.5),
    ("m3", "Time", "Beyonce and Sheryl Sandberg campaign against calling girls bossy", 2.0),
    ("m4", "CNN", "Ban bossy campaign: Sheryl Sandberg and Beyonce say girls are leaders", 2.5),
]


def test_an_article_close_to_two_alike_stories_merges_them_without_moving_ids() -> None:
    clusterer = StoryClusterer()
    got = feed(clusterer, BOSSY)
    assert [a.story_id for a in got] == ["m1", "m2", "m2", "m1"]
    assert clusterer.merges == {"m2": "m1"}
    assert clusterer.story_of("m3") == "m2"
    assert [clusterer.resolve(a.story_id) for a in got] == ["m1", "m1", "m1", "m1"]
    assert clusterer.open_stories() == ["bg1", "bg2", "bg3", "bg4", "m1"]


def test_merge_threshold_one_keeps_stories_apart() -> None:
    clusterer = StoryClusterer(StorySettings(story_merge_threshold=1.0))
    got = feed(clusterer, BOSSY)
    assert [a.story_id for a in got] == ["m1", "m2", "m2", "m2"]
    assert clusterer.merges == {}
    assert clusterer.resolve("m2") == "m2"


def test_names_are_capitalised_spans_and_numbers() -> None:
    features = extract("Fed's Charles Plosser sees high bar for change in tapering pace, 2014", "", NameLexicon())
    assert features.names == frozenset({"charle", "plosser", "charle plosser", "2014"})
    assert "fed" in features.terms and "tapering" in features.terms
    assert "for" not in features.terms


def test_title_case_words_are_names_only_when_the_stream_says_so() -> None:
    lexicon = NameLexicon()
    extract("Shares of Tesla rose after a strong quarter", "", lexicon)
    features = extract("Tesla Shares Jump On Strong Quarter", "", lexicon)
    assert features.names == frozenset({"tesla"})


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Stocks", "stock"), ("Fed's", "fed"), ("companies", "company"), ("business", "business"), ("US", "us")],
)
def test_stem(word: str, expected: str) -> None:
    assert stem(word) == expected
