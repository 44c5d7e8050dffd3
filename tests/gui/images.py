"""Pictures as arrays, and comparison with tolerances (the idea of pyqtgraph's tests/image_testing.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QImage

# Two pixels are "the same" when no channel differs by more than this (anti-aliased edges and text
# move by a level or two between builds of the same fonts).
PIXEL_TOLERANCE = 40
# A picture matches when at most this fraction of its pixels differ by more than the tolerance.
MAX_DIFFERING = 0.003


def pixels(data: bytes | QImage) -> np.ndarray:
    """A PNG (bytes) or QImage as an (height, width, 3) uint8 RGB array."""
    image = data if isinstance(data, QImage) else QImage.fromData(data, "PNG")
    assert not image.isNull(), "not a PNG Qt can read"
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    bgra = raw.reshape(height, image.bytesPerLine() // 4, 4)[:, :width, :]
    return bgra[:, :, [2, 1, 0]].copy()


@dataclass(frozen=True)
class Comparison:
    same_size: bool
    differing: float  # fraction of pixels beyond the tolerance
    worst: int  # the largest channel difference

    @property
    def matches(self) -> bool:
        return self.same_size and self.differing <= MAX_DIFFERING

    def describe(self) -> str:
        if not self.same_size:
            return "the sizes differ"
        return (
            f"{self.differing:.3%} of the pixels differ by more than {PIXEL_TOLERANCE} "
            f"(at most {MAX_DIFFERING:.3%} allowed; worst difference {self.worst})"
        )


def compare(actual: np.ndarray, expected: np.ndarray) -> Comparison:
    if actual.shape != expected.shape:
        return Comparison(False, 1.0, 255)
    delta = np.abs(actual.astype(np.int16) - expected.astype(np.int16)).max(axis=2)
    return Comparison(True, float((delta > PIXEL_TOLERANCE).mean()), int(delta.max()))


def diff_image(actual: np.ndarray, expected: np.ndarray) -> QImage:
    """The expected picture faded to grey, with the pixels that differ beyond the tolerance in red."""
    height = max(actual.shape[0], expected.shape[0])
    width = max(actual.shape[1], expected.shape[1])
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    grey = expected.mean(axis=2, keepdims=True).astype(np.uint8) // 2 + 127
    out[: expected.shape[0], : expected.shape[1]] = grey
    if actual.shape == expected.shape:
        delta = np.abs(actual.astype(np.int16) - expected.astype(np.int16)).max(axis=2)
        out[delta > PIXEL_TOLERANCE] = (230, 0, 0)
    rgb = np.ascontiguousarray(out)
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: the array goes away


def variance(data: bytes) -> float:
    """How much the picture varies: 0 for a blank one."""
    return float(pixels(data).astype(np.float64).var())


def luminance(data: bytes) -> float:
    rgb = pixels(data).astype(np.float64)
    return float((0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]).mean())
