"""Toolbar icons: our SVGs from resources/icons, drawn in the theme's text colour at every size Qt asks for."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from resources import ICONS

_SIZES = (16, 24, 32, 48, 64)  # 64 covers a 32 px toolbar at 200 % device pixel ratio


@lru_cache(maxsize=128)
def icon(name: str, color: str = "#000000") -> QIcon:
    """The icon ``name`` (a file resources/icons/NAME.svg) with its strokes and fills in ``color``."""
    svg = (ICONS / f"{name}.svg").read_text(encoding="utf-8").replace("#000000", color)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in _SIZES:
        pixmap = QPixmap(QSize(size, size))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def app_icon() -> QIcon:
    return icon("app", "#000000")
