"""How the pipeline runs its stages on a batch (``newsdrift.score.stages.score_stages``), with plain stages."""

from __future__ import annotations

import threading

import pytest

from newsdrift.records import RunSummary, ScoredArticle
from newsdrift.score.stages import score_stages


class Recorder:
    """A stage that logs when it starts and ends; it can wait for an event or fail."""

    def __init__(self, name: str, log: list[str], *, text_only: bool = False) -> None:
        self.name, self.log = name, log
        self.text_only = text_only
        self.hold: threading.Event | None = None
        self.release: threading.Event | None = None
        self.fail = False

    def score(self, batch: list[ScoredArticle], summary: RunSummary) -> None:
        self.log.append(f"{self.name}:start")
        if self.release is not None:
            self.release.set()
        if self.hold is not None:
            assert self.hold.wait(10), f"{self.name} was not run next to the stage it waits for"
        if self.fail:
            raise RuntimeError(f"{self.name} failed")
        self.log.append(f"{self.name}:end")

    def after_index(self, indexed: list[ScoredArticle], summary: RunSummary) -> None:
        return None

    def finish(self, summary: RunSummary) -> None:
        return None


def test_a_text_only_stage_runs_next_to_the_stages_before_it_and_before_the_ones_after() -> None:
    log: list[str] = []
    dedup, drift, alerts = Recorder("dedup", log), Recorder("drift", log, text_only=True), Recorder("alerts", log)
    # dedup can only finish once drift has started: they must run at the same time
    dedup.hold = drift.release = threading.Event()
    summary = RunSummary()
    score_stages([dedup, drift, alerts], [], summary)
    assert log.index("drift:start") < log.index("dedup:end")
    assert max(log.index("dedup:end"), log.index("drift:end")) < log.index("alerts:start")
    assert {"score:recorder"} == set(summary.stage_seconds)  # every stage is timed (one name for the three)


def test_stages_without_the_mark_run_one_after_another() -> None:
    log: list[str] = []
    score_stages([Recorder("a", log), Recorder("b", log)], [], RunSummary())
    assert log == ["a:start", "a:end", "b:start", "b:end"]


@pytest.mark.parametrize("failing", ["dedup", "drift"])
def test_a_failure_in_either_stops_the_batch_after_both_are_done(failing: str) -> None:
    log: list[str] = []
    dedup, drift, alerts = Recorder("dedup", log), Recorder("drift", log, text_only=True), Recorder("alerts", log)
    {"dedup": dedup, "drift": drift}[failing].fail = True
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        score_stages([dedup, drift, alerts], [], RunSummary())
    assert "alerts:start" not in log
    assert {"dedup:start", "drift:start"} <= set(log)
