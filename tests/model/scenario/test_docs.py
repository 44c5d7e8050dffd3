"""docs/scenarios.md stays true: its complete example works and its method reference is current."""

from __future__ import annotations

import re

from model.scenario import builtin_names, load_text, run_scenario
from model.scenario.reference import BEGIN, END, method_reference_markdown
from tests.model.scenario.conftest import ROOT

DOC = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")


def test_the_complete_example_loads_and_runs() -> None:
    example = re.search(r"## A complete example\n\n```toml\n(.*?)```", DOC, re.S)
    assert example is not None
    scenario = load_text(example.group(1), "example.toml")
    summary = run_scenario(scenario)
    assert summary.passed, summary.to_text()


def test_method_reference_is_generated_from_the_declarations() -> None:
    block = DOC[DOC.index(BEGIN) : DOC.index(END) + len(END)]
    assert block == method_reference_markdown(), "run: python -m model.scenario.reference, and paste"


def test_every_builtin_is_in_the_library_table() -> None:
    for name, _ in builtin_names():
        assert f"| `{name}` |" in DOC


def test_trace_doc_names_every_record_kind() -> None:
    from model.trace import RECORD_KINDS

    trace_doc = (ROOT / "docs" / "trace.md").read_text(encoding="utf-8")
    for kind in RECORD_KINDS:
        assert f"`{kind}`" in trace_doc
