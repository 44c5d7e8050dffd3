"""Every malformed scenario file gets one clear line: file, place, what was found, what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.scenario import ScenarioError, build_world, load
from tests.model.scenario.conftest import MALFORMED


def _expectations() -> dict[str, str]:
    out = {}
    for line in (MALFORMED / "expectations.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, fragment = line.split("\t")
            out[name] = fragment
    for path in MALFORMED.glob("*.toml"):
        first = path.read_bytes().split(b"\n", 1)[0]
        if first.startswith(b"# expect: "):
            out[path.name] = first.decode("utf-8").removeprefix("# expect: ")
    return out


EXPECTED = _expectations()
FILES = sorted(MALFORMED.glob("*.toml"))


def test_there_are_at_least_thirty_malformed_files() -> None:
    assert len(FILES) >= 30
    assert {p.name for p in FILES} == set(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_malformed_file_gives_one_clear_line(path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        build_world(load(path))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: "), message
    assert EXPECTED[path.name] in message
    assert "Traceback" not in message and "pydantic" not in message.lower()


def test_error_parts_are_available(tmp_path: Path) -> None:
    path = MALFORMED / "unknown_param.toml"
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert info.value.source == str(path)
    assert info.value.where == "action[0].args.BufferSz"
    assert info.value.detail.startswith("SetBufferSize has no input parameter BufferSz")
