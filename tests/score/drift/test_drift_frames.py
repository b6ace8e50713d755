"""Frames: the shipped config loads, bad files are named precisely, matching and scoring behave."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsdrift.score.frames import (
    DEFAULT_FRAMES_PATH,
    FramesConfigError,
    frames_from_mapping,
    load_frames,
    parse_entry,
    tokenize,
)

ROOT = Path(__file__).resolve().parents[3]
EXPECTED = {
    "openness_transparency",
    "safety_misuse",
    "geopolitics_security",
    "cost_efficiency",
    "competition_closed_models",
    "regulation",
    "innovation_ecosystem",
}


def small(**terms: float) -> dict:
    return {"threshold": 1.0, "frames": {"f": {"terms": terms}}}


def test_shipped_frames_load_with_all_required_frames() -> None:
    frames = load_frames(DEFAULT_FRAMES_PATH)
    assert set(frames.names) == EXPECTED
    assert frames.threshold > 0


def test_tokenize_splits_hyphens_and_apostrophes() -> None:
    assert tokenize("Meta’s open-source Llama-3") == ["meta", "s", "open", "source", "llama", "3"]
    assert parse_entry("open-source") == (("open", False), ("source", False))
    assert parse_entry("misus*") == (("misus", True),)


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (small(x=-1.0), ["frame 'f'", "field 'terms.x'", "greater than 0"]),
        (small(**{"bio*weapon": 2.0}), ["frame 'f'", "terms.bio*weapon", "'*' may only end a word"]),
        (small(**{"ai*": 2.0}), ["frame 'f'", "shorter than 3"]),
        ({"threshold": 1.0, "frames": {"Bad Name": {"terms": {"x": 1}}}}, ["frame 'Bad Name'", "snake_case"]),
        ({"threshold": 1.0, "frames": {"f": {"terms": {"x": 1}, "weight": 2}}}, ["frame 'f'", "field 'weight'"]),
        ({"threshold": 0, "frames": {"f": {"terms": {"x": 1}}}}, ["field 'threshold'"]),
        ({"threshold": 1.0, "frames": {"f": {"terms": {}}}}, ["frame 'f'", "field 'terms'"]),
    ],
)
def test_invalid_frames_name_file_frame_and_field(body: dict, needles: list[str]) -> None:
    with pytest.raises(FramesConfigError) as err:
        frames_from_mapping(body, "conf/frames.yaml")
    message = str(err.value)
    assert message.startswith("conf/frames.yaml: ")
    for needle in needles:
        assert needle in message


def test_invalid_file_on_disk_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "frames.yaml"
    path.write_text("threshold: 2\nframes:\n  safety_misuse:\n    terms:\n      misuse: zero\n")
    with pytest.raises(FramesConfigError, match=r"frames\.yaml: frame 'safety_misuse', field 'terms\.misuse'"):
        load_frames(path)
    path.write_text("threshold: 2\nframes:\n  f:\n    terms:\n      misuse: 1\n      misuse: 2\n")
    with pytest.raises(FramesConfigError, match="duplicate key 'misuse'"):
        load_frames(path)
    with pytest.raises(FramesConfigError, match="cannot read"):
        load_frames(tmp_path / "missing.yaml")


def test_longest_phrase_wins_and_wildcards_match() -> None:
    frames = frames_from_mapping(
        {
            "threshold": 1.0,
            "frames": {
                "open": {"terms": {"open source": 2.0, "source": 5.0}},
                "risk": {"terms": {"misus*": 3.0, "fine tune away": 4.0}},
                "eco": {"terms": {"fine tun*": 1.0}},
            },
        }
    )
    weights = frames.weights(tokenize("Open-source weights; misused and misuse. Fine-tuned, then fine tune away."))
    assert weights == {"open": 2.0, "risk": 3.0 + 3.0 + 4.0, "eco": 1.0}


def test_scores_are_per_thousand_tokens_and_frames_above_threshold() -> None:
    frames = frames_from_mapping(
        {"threshold": 50.0, "frames": {"a": {"terms": {"alpha": 1.0}}, "b": {"terms": {"beta": 1.0}}}}
    )
    present, scores = frames.score("alpha alpha beta " + "filler " * 17)  # 20 tokens
    assert scores == {"a": 100.0, "b": 50.0}
    assert present == ["a", "b"]
    present, scores = frames.score("beta " + "filler " * 39)
    assert present == [] and scores["b"] == 25.0
    assert frames.score("") == ([], {"a": 0.0, "b": 0.0})


def test_baseline_profile_is_dominated_by_openness() -> None:
    frames = load_frames()
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "baseline").glob("*.txt"))]
    profile = frames.profile(texts)
    assert set(profile) == EXPECTED
    assert sum(profile.values()) == pytest.approx(1.0)
    assert max(profile, key=lambda f: profile[f]) == "openness_transparency"
    assert profile["safety_misuse"] < 0.1
