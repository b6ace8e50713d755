"""Feed list and topic profile: loading, error messages, topic scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsdrift.errors import ConfigError
from newsdrift.feeds.catalog import Feed, enabled_feeds, load_feeds, parse_duration, parse_feeds
from newsdrift.records import stable_id
from newsdrift.score.topic import TopicProfile, load_topic, score_topic
from newsdrift.settings import PROJECT_ROOT, load_settings

CORPUS_MANIFEST = PROJECT_ROOT / "newsdrift" / "ops" / "sample" / "corpus" / "manifest.json"
EXTRACTION_DATA = PROJECT_ROOT / "tests" / "data" / "extraction"


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- feeds ------------------------------------------------------------------------


def test_shipped_feeds_file_is_valid_and_empty() -> None:
    settings = load_settings()
    assert load_feeds(settings.feeds_path) == []


def test_feed_fields_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
defaults:
  poll_interval: 30m
  tags: [ai]
feeds:
  - name: Policy Wire
    url: https://policywire.example.org/feeds/ai.atom
    outlet: Policy Wire Inc.
    tags: [policy]
    poll_interval: 1h30m
    ignore_cache: true
  - name: Byteline
    url: " https://byteline.example/atom.xml "
    enabled: false
""",
    )
    policy, byteline = load_feeds(path)
    assert policy.source == "Policy Wire Inc."
    assert policy.tags == ["ai", "policy"]
    assert policy.poll_interval == 5400 and policy.ignore_cache and policy.enabled
    assert policy.id == stable_id("https://policywire.example.org/feeds/ai.atom")
    assert byteline.url == "https://byteline.example/atom.xml"
    assert (byteline.source, byteline.tags, byteline.poll_interval) == ("Byteline", ["ai"], 1800)
    assert enabled_feeds([policy, byteline]) == [policy]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("15m", 900), ("90s", 90), ("1h30m", 5400), ("1d", 86400), ("900", 900), (600, 600), ("2.5m", 150), ("1H", 3600)],
)
def test_parse_duration(value: object, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "15 minutes", "m", "", True, None, "-5m"])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_errors_name_file_entry_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    path = write(
        tmp_path / "config",
        """
feeds:
  - name: Good
    url: https://good.example/rss
  - name: No URL
  - name: Policy Wire
    url: https://policywire.example.org/rss
    poll_interval: 10s
  - name: Ftp
    url: ftp://files.example/rss
    colour: blue
""",
    )
    with pytest.raises(ConfigError) as info:
        load_feeds(path)
    lines = str(info.value).splitlines()
    assert lines == [
        "config/feeds.yaml: feeds[1] (No URL): url: Field required",
        "config/feeds.yaml: feeds[2] (Policy Wire): poll_interval: must be between 1m and 7d (got 10s)",
        "config/feeds.yaml: feeds[3] (Ftp): url: must be an http:// or https:// URL with a host "
        "(got 'ftp://files.example/rss')",
        "config/feeds.yaml: feeds[3] (Ftp): colour: Extra inputs are not permitted (got 'blue')",
    ]


def test_duplicates_and_shapes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"feeds\[1\] \(B\): url: duplicate of feeds\[0\] \(A\)"):
        parse_feeds(
            {"feeds": [{"name": "A", "url": "https://x.example/rss"}, {"name": "B", "url": "https://X.example/rss"}]}
        )
    with pytest.raises(ConfigError, match=r"feeds\[1\] \(a\): name: duplicate of feeds\[0\] \(A\)"):
        parse_feeds(
            {"feeds": [{"name": "A", "url": "https://x.example/1"}, {"name": "a", "url": "https://x.example/2"}]}
        )
    with pytest.raises(ConfigError, match=r"feeds\[0\]: expected a mapping"):
        parse_feeds({"feeds": ["https://x.example/rss"]})
    with pytest.raises(ConfigError, match="unknown top-level key"):
        parse_feeds({"feed": []})
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_feeds(write(tmp_path, "feeds: [\n"))
    with pytest.raises(ConfigError, match="cannot read feeds file"):
        load_feeds(tmp_path / "missing.yaml")
    assert parse_feeds(None) == [] and parse_feeds({"feeds": None}) == []


def test_feed_model_is_frozen() -> None:
    feed = Feed(url="https://x.example/rss", name="X")
    with pytest.raises(ValueError):
        feed.name = "Y"  # type: ignore[misc]


# --- topic profile -----------------------------------------------------------------


@pytest.fixture(scope="module")
def profile() -> TopicProfile:
    return load_topic(load_settings().topic_path)


def test_topic_profile_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nterms:\n  - term: open weights\n    weight: 50\n", "topic.yaml")
    with pytest.raises(ConfigError, match=r"topic.yaml: terms.0.weight: Input should be less than or equal to 10"):
        load_topic(path)
    with pytest.raises(ConfigError, match="terms: Field required"):
        load_topic(write(tmp_path, "name: x\n", "topic.yaml"))


def test_scoring_basics(profile: TopicProfile) -> None:
    title = "Meta releases Llama 5 with open weights"
    text = "Meta published the model weights of Llama 5, reviving the open-source AI debate over closed models."
    relevance, terms = score_topic(title, text, profile)
    assert relevance > 0.8
    assert terms[:2] == ["Llama", "open weights"]
    assert {"model weights", "open-source AI", "closed models", "Meta"} <= set(terms)
    assert score_topic("", "", profile) == (0.0, [])


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Meta shares jump after strong advertising quarter",
            "Meta Platforms said advertising revenue rose 22 per cent as daily active users across Facebook, "
            "Instagram and WhatsApp reached a record. Reality Labs, its metaverse unit, lost $4bn. Meta's finance "
            "chief said costs would rise next year.",
        ),
        (
            "Linux maintainers warn of burnout in open source projects",
            "Volunteers who maintain open source software such as the Linux kernel say the workload is rising. "
            "The open-source community has asked companies to fund maintainers.",
        ),
        (
            "Llama trekking draws tourists to the hills",
            "A farm offering Llama walks has become a summer favourite. The Llamas carry picnic baskets and "
            "children can feed them.",
        ),
        (
            "Referees trial new offside cameras",
            "The league will test AI-assisted cameras to speed up offside decisions this season. Fans remain "
            "sceptical, and clubs want the AI system reviewed after ten matches.",
        ),
    ],
)
def test_lookalike_off_topic_stories_stay_below_threshold(profile: TopicProfile, title: str, text: str) -> None:
    relevance, _ = score_topic(title, text, profile)
    assert relevance < load_settings().topic_threshold


def _labelled() -> list[tuple[str, str, str, bool]]:
    rows = []
    manifest = json.loads(CORPUS_MANIFEST.read_text(encoding="utf-8"))
    for page in manifest["pages"]:
        rows.append((page["id"], page["title"], page["body"], page["on_topic"]))
    for name, label in json.loads((EXTRACTION_DATA / "manifest.json").read_text(encoding="utf-8")).items():
        body = (EXTRACTION_DATA / f"{name}.expected.txt").read_text(encoding="utf-8")
        rows.append((name, label["title"], body, label["on_topic"]))
    return rows


def test_relevance_separates_labelled_pages(profile: TopicProfile) -> None:
    """Every on-topic page scores above the threshold, every off-topic page below, with a margin."""
    threshold = load_settings().topic_threshold
    scores = {name: (score_topic(title, body, profile)[0], on) for name, title, body, on in _labelled()}
    on_topic = [s for s, on in scores.values() if on]
    off_topic = [s for s, on in scores.values() if not on]
    assert len(on_topic) >= 40 and len(off_topic) >= 4
    assert min(on_topic) >= threshold + 0.15, sorted(scores.items(), key=lambda kv: kv[1])[:8]
    assert max(off_topic) <= threshold - 0.1
