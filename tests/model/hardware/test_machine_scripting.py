"""docs/scripting.md's examples run as written, so the document cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "scripting.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    return _BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_document_has_a_complete_example() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 1
    assert any("from model import" in b and "Machine()" in b and "assert" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_python_block_runs_and_its_assertions_hold(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = python_blocks()[index]
    namespace: dict[str, object] = {"__name__": f"scripting_md_block_{index}"}
    exec(compile(code, f"{DOC}:block{index}", "exec"), namespace)
    if index == 0:
        # The example's own assertions ran; check its end state here too.
        m = namespace["m"]
        isr = namespace["isr"]
        assert m.now_ns == 45_000_000  # type: ignore[attr-defined]
        assert len(isr.times) == 4  # type: ignore[attr-defined]
        assert "4 interrupts, 8640 bytes played by 45 ms" in capsys.readouterr().out
