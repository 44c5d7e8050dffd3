"""The dmaviz command line: run, check, scenarios, open; exit statuses; messages; no Qt when headless."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from cli.main import COMMAND_MODULES, build_parser, main
from cli.run_cmd import ProgressBar
from model.scenario import builtin_names, load, make_session

ROOT = Path(__file__).resolve().parents[2]
MALFORMED = sorted((ROOT / "tests" / "scenarios" / "malformed").glob("*.toml"))
FAILING = """\
title = "fails on purpose"
[run]
until = "30ms"
[device]
kind = "sb16"
[[stream]]
[[expect]]
count = "interrupt"
at_least = 1
label = "the stream was never started, so this cannot hold"
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("command", [[], ["run"], ["check"], ["scenarios"], ["open"]])
def test_help_everywhere_with_examples(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0
    assert "examples:" in out and "usage: dmaviz" in out


def test_scenarios_lists_names_and_titles(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "scenarios")
    assert status == 0
    for name, title in builtin_names():
        assert any(line.startswith(name) and title in line for line in out.splitlines())
    assert "(default)" in out
    status, out, _ = run(capsys, "scenarios", "--names")
    assert out.split() == [name for name, _ in builtin_names()]


def test_run_prints_a_summary_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "run", "sb16_underrun")
    assert status == 0 and err == ""
    assert out.startswith("sb16_underrun: Client starvation")
    for word in ("simulated 500.000 ms", "bytes moved by DMA", "interrupts", "notifications", "glitches 1",
                 "violations 0", "expectations: 5 of 5 hold"):  # fmt: skip
        assert word in out


def test_run_json_is_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "run", "sb16_render", "--json", "--until", "100ms")
    lines = out.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["simulated_ns"] == 100_000_000
    assert {"bytes_moved", "interrupts", "notifications", "glitches", "violations", "expectations"} <= set(data)
    assert status == (0 if data["passed"] else 1)


def test_a_failing_expectation_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "fails.toml"
    path.write_text(FAILING)
    status, out, _ = run(capsys, "run", str(path))
    assert status == 1
    assert "FAIL [0] the stream was never started" in out


def test_trace_file_is_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    status, _, _ = run(capsys, "run", "sb16_render", "--until", "50ms", "--trace", str(trace))
    assert status in (0, 1)
    lines = trace.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["seq"] == 0 and json.loads(lines[-1])["seq"] == len(lines) - 1


def test_unwritable_trace_is_invalid_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "run", "sb16_render", "--trace", str(tmp_path / "no" / "dir" / "t.jsonl"))
    assert status == 2 and out == ""
    assert err.startswith("dmaviz: ") and "cannot write the trace" in err and err.count("\n") == 1


@pytest.mark.parametrize("until", ["12", "5 parsecs", "-3ms", "0ms"])
def test_bad_durations_are_usage_errors(capsys: pytest.CaptureFixture[str], until: str) -> None:
    status, _, err = run(capsys, "run", "sb16_render", "--until", until)
    assert status == 2 and "--until" in err


def test_unknown_builtin_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "check", "open"):
        status, out, err = run(capsys, command, "no_such_scenario")
        assert status == 2 and out == ""
        assert err.startswith("dmaviz: no_such_scenario: no such file and no built-in scenario")
        assert err.count("\n") == 1


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", ["check", "run"])
def test_malformed_files_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], command: str, path: Path) -> None:
    status, out, err = run(capsys, command, str(path))
    assert status == 2, out
    assert out == ""
    assert err.startswith(f"dmaviz: {path}: ") and err.count("\n") == 1


def test_huge_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    for command in ("check", "run"):
        status, _, err = run(capsys, command, str(path))
        assert status == 2 and "larger than 1 MiB" in err and err.count("\n") == 1


def test_check_validates_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check", "sb16_waitfortc")
    assert status == 0 and err == ""
    assert out.startswith("sb16_waitfortc: ok: WaitForTC")


def test_plain_dmaviz_and_open_hand_over_to_the_window(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    fake = types.ModuleType("gui.app")
    fake.main = lambda source: calls.append(source) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gui.app", fake)
    assert (
        run(
            capsys,
        )[0]
        == 0
    )
    assert run(capsys, "open", "sb16_capture")[0] == 0
    assert calls == [None, "sb16_capture"]
    status, _, err = run(capsys, "open", str(MALFORMED[0]))
    assert status == 2 and calls == [None, "sb16_capture"] and err.count("\n") == 1


def test_without_the_window_open_says_so(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gui.app", None)
    status, out, err = run(capsys, "open", "sb16_render")
    assert status == 2 and out == ""
    assert "window is not available" in err and "dmaviz run SCENARIO" in err and err.count("\n") == 1


def test_subcommands_are_modules_that_register_themselves() -> None:
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"open", "run", "check", "scenarios"} <= set(choices)
    assert "cli.shot" in COMMAND_MODULES  # issue 7 adds cli/shot.py with register(subparsers)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_after_a_delay() -> None:
    quiet = io.StringIO()
    bar = ProgressBar(quiet, delay_s=0.0)
    bar(5, 10)
    assert quiet.getvalue() == ""
    tty = _Tty()
    slow = ProgressBar(tty, delay_s=3600.0)
    slow(5, 10)
    assert tty.getvalue() == ""
    fast = ProgressBar(tty, delay_s=0.0)
    fast(250_000_000, 1_000_000_000)
    assert "25.0%" in tty.getvalue() and "250.000 ms of 1.000000 s" in tty.getvalue()
    fast.close()
    assert tty.getvalue().endswith("\r")


def _subprocess(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_run_imports_no_qt_in_a_fresh_process() -> None:
    code = (
        "import sys\n"
        "from cli.main import main\n"
        "status = main(['run', 'sb16_render', '--until', '50ms', '--json'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'gui'))\n"
        "print('QT', bad)\n"
    )
    result = _subprocess(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "QT []"


def test_console_script_exit_status_and_one_line_error(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "dmaviz"
    command = (
        [str(exe)]
        if exe.exists()
        else [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
    )
    bad = ROOT / "tests" / "scenarios" / "malformed" / "unknown_method.toml"
    result = subprocess.run([*command, "check", str(bad)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "action[0].method: no interface has a method" in result.stderr


def test_saved_session_replays_through_dmaviz_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load("sb16_setbuffersize")
    session = make_session(scenario)
    session.run(max_steps=30)
    session.call("dma", "SetBufferSize", {"BufferSize": 0x1000})
    session.run(max_steps=7)
    session.call("pin", "GetPosition")
    session.run(until_ns=scenario.run_until_ns)
    saved = tmp_path / "saved.toml"
    saved.write_text(scenario.to_toml(extra_actions=session.recorded_actions()), encoding="utf-8")
    replay = tmp_path / "replay.jsonl"
    status, _, err = run(capsys, "run", str(saved), "--trace", str(replay))
    assert err == "" and status in (0, 1)
    expected = tmp_path / "session.jsonl"
    session.system.trace.write_jsonl(expected)
    assert replay.read_bytes() == expected.read_bytes()


def test_traces_are_identical_across_processes(tmp_path: Path) -> None:
    """Different hash seeds, different processes: the same bytes (no set or dict order leaks in)."""
    code = "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))"
    outputs = []
    for seed in ("1", "4242"):
        trace = tmp_path / f"trace{seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code, "run", "sb16_data_race", "--trace", str(trace), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.append((trace.read_bytes(), result.stdout))
    assert outputs[0] == outputs[1]
