"""Finding and reading scenario files: paths, built-in names, size limit, encodings, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from model.scenario import MAX_BYTES, Scenario, ScenarioError, builtin_names, default_name, load, load_text
from resources import SCENARIOS
from tests.model.scenario.conftest import MINIMAL


def test_load_by_builtin_name_and_by_path_agree() -> None:
    by_name = load(default_name())
    by_path = load(SCENARIOS / f"{default_name()}.toml")
    by_str = load(str(SCENARIOS / f"{default_name()}.toml"))
    assert isinstance(by_name, Scenario)
    assert by_name.doc == by_path.doc == by_str.doc
    assert by_name.builtin and not by_path.builtin
    assert by_name.path == by_path.path == (SCENARIOS / f"{default_name()}.toml").resolve()
    assert by_name.name == default_name()


def test_builtin_names_are_name_title_pairs() -> None:
    names = builtin_names()
    assert all(isinstance(n, str) and isinstance(t, str) and t for n, t in names)
    assert names == sorted(names)


def test_scenario_values(minimal_text: str) -> None:
    scenario = load_text(minimal_text, "mine.toml")
    assert scenario.title == "minimal"
    assert scenario.device == "sb16"
    assert scenario.run_until_ns == 60_000_000
    assert scenario.machine_config.memory_size == 64 * 1024 * 1024
    assert len(scenario.streams) == 1 and not scenario.streams[0].capture
    assert scenario.actions[0].describe() == "pin.SetState(State=KSSTATE_RUN)"
    assert scenario.breakpoints == [] and scenario.shot is None
    assert scenario.name == "mine" and scenario.path is None


def _error(source: str | Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load(source)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_unknown_builtin_name_lists_the_builtins() -> None:
    message = _error("sb16_rendr")
    assert message.startswith("sb16_rendr: no such file and no built-in scenario")
    assert "did you mean sb16_render" in message and "built-in:" in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert _error(str(tmp_path / "nope.toml")).endswith("no such file")
    assert "not a file" in _error(str(tmp_path))
    assert "not a file" in _error(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.toml"
    path.write_text(MINIMAL)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # running as root: permissions do not apply
            pytest.skip("permissions are not enforced for this user")
        assert "cannot read the file" in _error(path)
    finally:
        path.chmod(0o600)


def test_files_over_one_mebibyte_are_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(MINIMAL + "# padding\n" * (MAX_BYTES // 10 + 1))
    assert path.stat().st_size > MAX_BYTES
    message = _error(path)
    assert message == f"{path}: the file is larger than 1 MiB; scenario files are small text files (refused unread)"
    with pytest.raises(ScenarioError, match="larger than 1 MiB"):
        load_text(path.read_text())


def test_a_file_just_under_the_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    padding = "# " + "x" * 97 + "\n"
    path.write_text(MINIMAL + padding * ((MAX_BYTES - len(MINIMAL) - 200) // len(padding)))
    assert path.stat().st_size <= MAX_BYTES
    assert load(path).title == "minimal"


def test_toml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text('title = "x"\n[device\nkind = "sb16"\n', "syntax.toml")
    assert str(info.value).startswith("syntax.toml: line 2, column")
    assert "not valid TOML" in str(info.value)


def test_load_text_refuses_non_text() -> None:
    with pytest.raises(ScenarioError, match="expected TOML text"):
        load_text(b"title = 1")  # type: ignore[arg-type]


def test_nothing_is_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = MINIMAL.replace('title = "minimal"', f"title = \"__import__('os').system('touch {marker}')\"")
    scenario = load_text(text)
    assert scenario.title.startswith("__import__")
    assert not marker.exists()
