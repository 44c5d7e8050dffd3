"""Pictures compared with approved reference images, within tolerances (tests/gui/images.py).

After a change that is meant to change the pictures, look at the new ones, then approve them:

    DMAVIZ_APPROVE=1 .venv/bin/pytest tests/gui/test_reference_images.py

which rewrites tests/gui/reference_images/ (and the fonts and Qt version they were drawn
with, in meta.json). On a failure the test writes the picture it drew and a diff image (the
expected picture in grey, differing pixels in red) to a temporary directory and says where.
Reference images drawn with other fonts or another Qt cannot be compared: the test is skipped.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from PySide6 import __version__ as pyside_version
from PySide6.QtGui import QFontInfo, QImage

from gui.export.renderer import Moment, PictureOptions, picture_font, shoot
from model.scenario import load
from model.units import MS
from tests.gui.images import compare, diff_image, pixels

HERE = Path(__file__).resolve().parent
REFERENCES = HERE / "reference_images"
META = REFERENCES / "meta.json"
APPROVE = os.environ.get("DMAVIZ_APPROVE") == "1"

# (picture name, scenario, moment, view, size, theme): a few views, small, each one telling.
CASES = [
    ("underrun-buffer", "sb16_underrun", Moment(at_ns=285 * MS), "buffer", (640, 300), "light"),
    ("dpc_latency-counter", "sb16_dpc_latency", Moment(at_ns=300 * MS), "counter", (640, 300), "light"),
    ("fragmented-memory", "sb16_allocate_fragmented", Moment(at_ns=60 * MS), "memory", (560, 360), "light"),
    ("hda-registers-dark", "hda_render", Moment(at_ns=55 * MS), "registers", (520, 420), "dark"),
    ("data_race-log", "sb16_data_race", Moment(event=33), "log", (760, 300), "light"),
]


def drawing_setup() -> dict[str, str]:
    """What the pixels depend on besides dmaviz: the font actually used and the Qt version."""
    font = QFontInfo(picture_font())
    return {"font": f"{font.family()} {font.pointSizeF():g}pt", "pyside": pyside_version}


@pytest.fixture(scope="module")
def setup_matches() -> None:
    if APPROVE:
        REFERENCES.mkdir(exist_ok=True)
        META.write_text(json.dumps(drawing_setup(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return
    if not META.exists():
        pytest.skip("no reference images yet: DMAVIZ_APPROVE=1 .venv/bin/pytest tests/gui/test_reference_images.py")
    approved = json.loads(META.read_text(encoding="utf-8"))
    here = drawing_setup()
    if approved != here:
        pytest.skip(f"reference images were drawn with {approved}, this machine draws with {here}")


@pytest.mark.parametrize(("name", "scenario", "moment", "view", "size", "theme"), CASES, ids=[c[0] for c in CASES])
def test_picture_matches_the_approved_one(
    setup_matches: None,
    name: str,
    scenario: str,
    moment: Moment,
    view: str,
    size: tuple[int, int],
    theme: str,
) -> None:
    data = shoot(load(scenario), moment, PictureOptions(view=view, size=size, theme=theme))
    reference = REFERENCES / f"{name}.png"
    if APPROVE:
        reference.write_bytes(data)
        return
    assert reference.exists(), f"{reference} is missing: approve it with DMAVIZ_APPROVE=1"
    actual, expected = pixels(data), pixels(reference.read_bytes())
    result = compare(actual, expected)
    if not result.matches:
        out = Path(tempfile.mkdtemp(prefix=f"dmaviz-{name}-"))
        (out / f"{name}.actual.png").write_bytes(data)
        diff: QImage = diff_image(actual, expected)
        diff.save(str(out / f"{name}.diff.png"))
        pytest.fail(
            f"{name}: {result.describe()}. The picture drawn now and a diff (differences in red) are in {out}; "
            f"the approved one is {reference}. If the change is intended, approve it: "
            "DMAVIZ_APPROVE=1 .venv/bin/pytest tests/gui/test_reference_images.py"
        )


def test_the_comparison_catches_a_change_and_writes_a_diff(tmp_path: Path) -> None:
    data = shoot(load("sb16_underrun"), Moment(at_ns=285 * MS), PictureOptions(view="positions", size=(400, 200)))
    same = pixels(data)
    changed = same.copy()
    changed[20:60, 40:200] = 255 - changed[20:60, 40:200]  # a block of text turned inside out
    assert compare(same, same.copy()).matches
    result = compare(changed, same)
    assert not result.matches and result.differing > 0.01
    image = diff_image(changed, same)
    assert (image.width(), image.height()) == (400, 200)
    assert image.save(str(tmp_path / "diff.png"))
