"""Every built-in scenario loads, builds, runs, and its expectations hold."""

from __future__ import annotations

import pytest

from model.scenario import builtin_names, default_name, load, run_scenario
from resources import SCENARIOS

NAMES = [name for name, _ in builtin_names()]


def test_the_library_has_at_least_twelve_scenarios() -> None:
    assert len(NAMES) >= 12
    assert default_name() in NAMES
    assert sorted(p.stem for p in SCENARIOS.glob("*.toml")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_builtin_scenario_holds(name: str) -> None:
    scenario = load(name)
    summary = run_scenario(scenario)
    failed = [f"[{e.index}] {e.label}: {e.detail}" for e in summary.expectations if not e.passed]
    assert failed == []
    assert summary.expectations, "a built-in scenario checks itself"
    assert summary.simulated_ns == scenario.run_until_ns


@pytest.mark.parametrize("name", NAMES)
def test_builtin_scenario_teaches(name: str) -> None:
    scenario = load(name)
    assert scenario.builtin
    assert len(scenario.description) > 300, "a few paragraphs of explanation"
    assert scenario.shot is not None, "the gallery needs a moment"
    assert scenario.doc.stream, "every built-in scenario has a stream"


def test_titles_are_distinct() -> None:
    titles = [title for _, title in builtin_names()]
    assert len(set(titles)) == len(titles)
