"""``dmaviz shot``: pictures from the command line, offscreen; byte-identical across processes; batches;
exit status 2 with one line for every kind of bad argument; no Qt imported until a picture is drawn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from gui.export.views import VIEWS
from model.scenario import builtin_names, load

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--size", "400x240"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (no Qt needed)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_help_lists_the_views_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "shot", "--help")
    assert status == 0 and "examples:" in out
    for view in VIEWS:
        assert view in out


def test_one_panel_png(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "underrun.png"
    status, out, err = run(
        capsys, "shot", "sb16_underrun", "--at", "285ms", "--view", "buffer", *SMALL, "--out", str(out_file)
    )
    assert (status, err) == (0, "")
    assert out.strip() == str(out_file)
    assert png_size(out_file) == (400, 240)


def test_scale_and_caption(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "counter@2x.png"
    status, _, err = run(
        capsys, "shot", "sb16_render", "--event", "40", "--view", "counter", *SMALL, "--scale", "2",
        "--theme", "dark", "--caption", "The 8237 counter", "--out", str(out_file),
    )  # fmt: skip
    assert (status, err) == (0, "")
    width, height = png_size(out_file)
    assert width == 800 and height > 480


def test_the_scenario_shot_table_gives_moment_and_view(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "race.svg"
    status, _, err = run(capsys, "shot", "sb16_data_race", *SMALL, "--out", str(out_file))
    assert (status, err) == (0, "")
    text = out_file.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text and "data-race" in text  # the log at event 33


def test_batch_of_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in ("sb16_render", "hda_render"):
        shutil.copy(ROOT / "resources" / "scenarios" / f"{name}.toml", scenarios)
    out_dir = tmp_path / "pictures" / "new"
    status, out, err = run(capsys, "shot", "--all", str(scenarios), "--out-dir", str(out_dir), "--scale", "0.5")
    assert (status, err) == (0, "")
    assert sorted(p.name for p in out_dir.iterdir()) == ["hda_render.png", "sb16_render.png"]
    assert png_size(out_dir / "sb16_render.png") == (800, 500)  # its [shot] view is the whole window
    assert len(out.splitlines()) == 2


def test_batch_in_svg_and_a_batch_that_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "shot", "--all", "sb16_underrun", "--out-dir", str(tmp_path), "--format", "svg")
    assert (status, err) == (0, "")
    assert (tmp_path / "sb16_underrun.svg").read_text(encoding="utf-8").startswith("<?xml")
    # sb16_render's [shot] view is the whole window, which cannot be drawn at 400x240: a clear exit 2.
    status, _, err = run(capsys, "shot", "--all", "sb16_render", "--out-dir", str(tmp_path), *SMALL)
    assert status == 2 and "cannot draw this view at 400x240" in err and err.count("\n") == 1


def test_every_builtin_shot_table_names_a_view_and_a_moment_inside_the_scenario() -> None:
    """What the gallery draws, checked without drawing: a known view, a moment before run.until."""
    from gui.export.renderer import event_time

    for name, _title in builtin_names():
        scenario = load(name)
        shot = scenario.shot
        assert shot is not None, f"{name}: the gallery needs a [shot] table"
        assert (shot.view or "window") in VIEWS, f"{name}: [shot] view {shot.view!r} is not a view"
        if shot.event is not None:
            _t, reached = event_time(scenario, shot.event)
            assert reached == shot.event, f"{name}: event {shot.event} is after run.until"
        else:
            assert shot.at_ns is not None and shot.at_ns <= scenario.run_until_ns


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sb16_render", "--view", "bufer"], "unknown view 'bufer' (did you mean buffer?)"),
        (["sb16_render", "--at", "2s"], "the moment 2.000000 s is past the end of the scenario"),
        (["sb16_render", "--event", "999999"], "event 999999 is past the end of the scenario"),
        (["no_such_scenario"], "no such file and no built-in scenario"),
        (["sb16_render", "--view", "window", "--size", "300x200"], "cannot draw this view at 300x200"),
        (["sb16_render", "--at", "5"], "expected a duration"),
        (["sb16_render", "--at", "1ms", "--event", "3"], "not allowed with argument"),
        (["sb16_render", "--size", "12x12"], "each side must be from 64 to 8192"),
        (["sb16_render", "--scale", "0"], "the scale must be from 0.25 to 8"),
        (
            ["sb16_underrun", "--view", "memory", "--size", "8192x8192", "--scale", "8"],
            "8192x8192 at scale 8 is a picture of 65536x65536 = 4,295 million pixels; the most is 67 million",
        ),
        (["sb16_underrun", "--view", "window", "--scale", "8"], "1600x1000 at scale 8 is a picture of"),
        (
            ["sb16_render", "--at", "-5ms"],
            "argument --at: '-5ms': a duration cannot be negative; give the simulated time from the start, e.g. 5ms",
        ),
        (["sb16_render", "--theme", "sepia"], "invalid choice"),
        ([], "which scenario?"),
        (["--all", "--out", "x.png"], "--out-dir"),
        (["--all", "--out-dir", "{tmp}", "--at", "5ms"], "--at and --event are for one picture"),
        (["--all", "sb16_render", "--out-dir", "{tmp}", "--scale", "8"], "million pixels"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    out_args = [] if "--all" in argv else ["--out", str(tmp_path / "x.png")]
    status, out, err = run(capsys, "shot", *argv, *out_args)
    assert status == 2 and out == ""
    last = err.strip().splitlines()[-1]
    assert message in last, err
    assert "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("target", ["missing_dir/x.png", "x.jpg", "a_directory.png", "readonly/x.png"])
def test_unwritable_or_wrong_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str) -> None:
    (tmp_path / "a_directory.png").mkdir()
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        if target.startswith("readonly") and os.access(readonly, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        status, out, err = run(capsys, "shot", "sb16_render", "--out", str(tmp_path / target))
    finally:
        readonly.chmod(0o700)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("dmaviz: ") and str(tmp_path / target) in err


def test_unwritable_paths_exit_2_even_for_a_user_who_can_write_anywhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The read-only directory above is skipped as root; a file where the directory should be is not."""
    (tmp_path / "a_file").write_text("not a directory", encoding="utf-8")
    target = tmp_path / "a_file" / "x.png"
    status, out, err = run(capsys, "shot", "sb16_render", "--out", str(target))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err == f"dmaviz: {target}: cannot write the picture: {tmp_path / 'a_file'} is a file, not a directory\n"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_picture_the_system_refuses_to_store_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """/proc takes no new files, not even from root: the failure comes only when the file is written."""
    target = Path("/proc/self/dmaviz-shot.png")
    status, out, err = run(capsys, "shot", "sb16_render", "--view", "positions", "--out", str(target))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"dmaviz: {target}: cannot write the picture: ")
    assert not target.exists()


def test_a_batch_with_a_scenario_without_a_shot_table_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "plain.toml").write_text('title = "no shot"\n[device]\nkind = "sb16"\n[[stream]]\n', encoding="utf-8")
    status, out, err = run(capsys, "shot", "--all", str(scenarios), "--out-dir", str(tmp_path / "pictures"))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "has no [shot] table, and --all takes each scenario's moment from it" in err
    assert "--at DURATION --out FILE" in err and "or --event N" not in err


def test_a_scenario_without_a_shot_table_needs_a_moment(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plain = tmp_path / "plain.toml"
    plain.write_text('title = "no shot"\n[device]\nkind = "sb16"\n[[stream]]\n', encoding="utf-8")
    status, _, err = run(capsys, "shot", str(plain), "--out", str(tmp_path / "x.png"))
    assert status == 2 and "has no [shot] table; give the moment with --at DURATION or --event N" in err
    status, _, err = run(
        capsys, "shot", str(plain), "--at", "5ms", "--view", "log", *SMALL, "--out", str(tmp_path / "x.png")
    )
    assert (status, err) == (0, "")
    assert png_size(tmp_path / "x.png") == (400, 240)


# --- in processes of their own ------------------------------------------------------------------------------------
def _dmaviz(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_same_arguments_give_the_same_bytes_in_two_processes_without_a_display(tmp_path: Path) -> None:
    """No DISPLAY, no QT_QPA_PLATFORM, different hash seeds, a desktop scale factor: the same PNG, byte for byte."""
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    outputs = []
    for seed, extra in (("1", {}), ("4242", {"QT_SCALE_FACTOR": "2"})):
        out_file = tmp_path / f"shot{seed}.png"
        result = _dmaviz(
            "shot", "sb16_dpc_latency", "--at", "300ms", "--view", "counter", "--scale", "2", "--caption", "DPC late",
            "--out", str(out_file), env={**base, "PYTHONHASHSEED": seed, **extra},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", "Qt's offscreen chatter must not reach the user"
        outputs.append(out_file.read_bytes())
    assert outputs[0] == outputs[1]
    width, height = png_size(tmp_path / "shot1.png")
    assert width == 2 * VIEWS["counter"].size[0] and height > 2 * VIEWS["counter"].size[1]  # and the caption


def test_importing_the_command_imports_no_qt() -> None:
    code = (
        "import sys\n"
        "import cli.shot\n"
        "from cli.main import build_parser\n"
        "build_parser().parse_args(['shot', 'sb16_render', '--out', 'x.png', '--view', 'buffer'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'gui')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
