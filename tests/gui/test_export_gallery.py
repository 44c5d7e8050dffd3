"""docs/gallery.md stays true: it is what `python -m gui.gallery` writes for the scenario files, with a picture each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui.gallery import COMMAND, DOCS, main, page
from model.scenario import builtin_names
from tests.gui.images import compare, pixels
from tests.gui.test_reference_images import META, drawing_setup


def test_gallery_page_is_current_and_every_picture_is_there() -> None:
    written = (DOCS / "gallery.md").read_text(encoding="utf-8")
    assert written == page(DOCS / "gallery", DOCS), "run: .venv/bin/python -m gui.gallery"
    for name, title in builtin_names():
        picture = DOCS / "gallery" / f"{name}.png"
        assert picture.exists(), f"{picture} is missing: run .venv/bin/python -m gui.gallery"
        assert f"## {title}" in written and f"(gallery/{name}.png)" in written


def test_readme_shows_a_gallery_picture_under_its_title() -> None:
    lines = (DOCS.parent / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# dmaviz" and lines[1] == ""
    assert lines[2].startswith("![") and "(docs/gallery/" in lines[2]
    target = lines[2][lines[2].index("(docs/gallery/") + 1 : -1]
    assert (DOCS.parent / target).exists()


def test_the_gallery_command_draws_into_another_directory(tmp_path: Path) -> None:
    out_dir, markdown = tmp_path / "pictures", tmp_path / "gallery.md"
    assert main(["--out-dir", str(out_dir), "--markdown", str(markdown), "--scale", "0.25"]) == 0
    names = sorted(p.stem for p in out_dir.glob("*.png"))
    assert names == sorted(name for name, _ in builtin_names())
    assert "(pictures/sb16_render.png)" in markdown.read_text(encoding="utf-8")
    width = pixels((out_dir / "sb16_render.png").read_bytes()).shape[1]
    assert width == 400  # the whole window, 1600 logical pixels at a quarter


def test_the_committed_gallery_is_what_the_gallery_command_draws_now(tmp_path: Path) -> None:
    """A change to what pictures show must come with a regenerated gallery (compared as the reference images are)."""
    approved = json.loads(META.read_text(encoding="utf-8")) if META.exists() else None
    if approved != drawing_setup():
        pytest.skip(f"the gallery was drawn with {approved}, this machine draws with {drawing_setup()}")
    out_dir = tmp_path / "gallery"
    assert main(["--out-dir", str(out_dir), "--markdown", str(tmp_path / "gallery.md")]) == 0
    stale = []
    for fresh in sorted(out_dir.glob("*.png")):
        committed = DOCS / "gallery" / fresh.name
        result = compare(pixels(fresh.read_bytes()), pixels(committed.read_bytes()))
        if not result.matches:
            stale.append(f"{fresh.name}: {result.describe()}")
    assert len(list(out_dir.glob("*.png"))) == len(builtin_names())
    assert not stale, f"stale pictures in docs/gallery (run {COMMAND}): {stale}"
