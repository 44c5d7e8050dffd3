"""docs/gallery.md stays true: it is what `python -m gui.gallery` writes for the scenario files, with a picture each."""

from __future__ import annotations

from pathlib import Path

from gui.gallery import DOCS, main, page
from model.scenario import builtin_names
from tests.gui.images import pixels


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
