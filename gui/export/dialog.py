"""File → Export Picture… and File → Copy Picture: pictures of the window or one panel, from the window.

The dialog only gathers the choices; the drawing is gui/export/renderer.py, the same code as
`dmaviz shot`. A picture at another size or in another theme is drawn from a copy of the view,
so the window on screen never changes while it is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.export.renderer import PictureError, theme_for, window_image, window_picture, write_picture
from gui.export.views import (
    MAX_SCALE,
    MAX_SIDE,
    MIN_SCALE,
    MIN_SIDE,
    PNG,
    SVG,
    VIEWS,
    WINDOW,
    check_pixels,
    device_pixels,
    picture_format,
)
from gui.theme import Theme

if TYPE_CHECKING:
    from gui.main_window import MainWindow

FILE_FILTERS = {PNG: "PNG image (*.png)", SVG: "SVG drawing (*.svg)"}


@dataclass(frozen=True)
class ExportChoice:
    view: str = WINDOW
    fmt: str = PNG
    size: tuple[int, int] = VIEWS[WINDOW].size
    scale: float = 1.0
    theme: str = "shown"  # "shown", "light" or "dark"
    caption: str = ""


def view_size(window: MainWindow, view: str) -> tuple[int, int]:
    """The view's size on screen now; a panel that is hidden gets its default picture size."""
    if view == WINDOW:
        return window.width(), window.height()
    panel = window.panels[view]
    if panel.isVisible() and panel.width() >= MIN_SIDE and panel.height() >= MIN_SIDE:
        return panel.width(), panel.height()
    return VIEWS[view].size if view in VIEWS else (800, 500)


def choice_theme(window: MainWindow, choice: ExportChoice) -> Theme:
    if choice.theme == "shown":
        return window.themes.theme
    return theme_for(choice.theme, window.themes.presentation)


def export_picture(window: MainWindow, choice: ExportChoice, path: Path) -> None:
    """Write the chosen picture to ``path`` (PictureError with a one-line reason if it cannot be done)."""
    data = window_picture(
        window, choice.view, choice.size, choice.scale, choice_theme(window, choice), choice.caption, choice.fmt
    )
    write_picture(path, data)


def copy_picture(window: MainWindow, choice: ExportChoice | None = None) -> None:
    """Put the picture on the clipboard; without a choice, the whole window as it is on screen."""
    if choice is None:
        choice = ExportChoice(size=(window.width(), window.height()), scale=window.devicePixelRatioF())
    image = window_image(window, choice.view, choice.size, choice.scale, choice_theme(window, choice), choice.caption)
    clipboard = QApplication.clipboard()
    if clipboard is not None:
        clipboard.setImage(image)
    window.flash(f"picture copied ({image.width()}×{image.height()} pixels)")


class ExportDialog(QDialog):
    """Whole window or one panel, PNG or SVG, size, scale, theme and caption; Save… or Copy."""

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self.window_ = window
        self.setWindowTitle("Export Picture")
        self.setObjectName("export_dialog")
        self.last_path: Path | None = None

        self.view_box = QComboBox(self)
        self.view_box.addItem("Whole window", WINDOW)
        for key, panel in window.panels.items():
            self.view_box.addItem(f"{panel.title} panel", key)
        self.view_box.setToolTip("The whole window, or one panel on its own")
        self.format_box = QComboBox(self)
        self.format_box.addItem("PNG image", PNG)
        self.format_box.addItem("SVG drawing (vectors)", SVG)
        self.format_box.setToolTip("PNG: pixels, exactly as drawn. SVG: text, lines and curves stay sharp at any zoom")
        self.width_box, self.height_box = QSpinBox(self), QSpinBox(self)
        for box, what in ((self.width_box, "Width"), (self.height_box, "Height")):
            box.setRange(MIN_SIDE, MAX_SIDE)
            box.setSuffix(" px")
            box.setToolTip(f"{what} of the view in logical pixels")
        self.scale_box = QDoubleSpinBox(self)
        self.scale_box.setRange(MIN_SCALE, MAX_SCALE)
        self.scale_box.setSingleStep(0.5)
        self.scale_box.setDecimals(2)
        self.scale_box.setValue(max(1.0, window.devicePixelRatioF()))
        self.scale_box.setToolTip("Device pixels per logical pixel: 2 makes a PNG with twice the pixels each way")
        self.pixels = QLabel(self)
        self.pixels.setProperty("role", "hint")
        self.pixels.setWordWrap(True)
        self.theme_box = QComboBox(self)
        for text, name in (("As shown", "shown"), ("Light", "light"), ("Dark", "dark")):
            self.theme_box.addItem(text, name)
        self.theme_box.setToolTip("The colours of the picture (the window keeps its own)")
        self.caption_edit = QLineEdit(self)
        self.caption_edit.setPlaceholderText("no caption")
        self.caption_edit.setToolTip("A caption strip below the picture")
        self.reset_size = QPushButton("Current size", self)
        self.reset_size.setToolTip("The size the view has on screen now")
        self.reset_size.clicked.connect(self._set_current_size)

        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box)
        size_row.addWidget(QLabel("×", self))
        size_row.addWidget(self.height_box)
        size_row.addWidget(self.reset_size)
        size_row.addStretch(1)
        form = QFormLayout()
        form.addRow("&View", self.view_box)
        form.addRow("&Format", self.format_box)
        size_label = QLabel("Si&ze", self)
        size_label.setBuddy(self.width_box)  # a row holding a layout gets no buddy of its own
        form.addRow(size_label, size_row)
        form.addRow("Sc&ale", self.scale_box)
        form.addRow("", self.pixels)
        form.addRow("&Theme", self.theme_box)
        form.addRow("Ca&ption", self.caption_edit)
        note = QLabel(
            "Hover lines and hover text are left out. For pictures that are reproducible byte for byte, "
            "use <code>dmaviz shot</code> (see docs/gallery.md).",
            self,
        )
        note.setWordWrap(True)
        note.setProperty("role", "hint")
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton("&Save…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setToolTip("Choose a file and write the picture")
        self.copy_button = buttons.addButton("&Copy to Clipboard", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Put the picture on the clipboard (as an image)")
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.save_button.clicked.connect(self.save)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self.view_box.currentIndexChanged.connect(self._set_current_size)
        for box in (self.width_box, self.height_box):
            box.valueChanged.connect(self._update_pixels)
        self.scale_box.valueChanged.connect(self._update_pixels)
        self.format_box.currentIndexChanged.connect(self._update_pixels)
        self._set_current_size()

    def _set_current_size(self) -> None:
        width, height = view_size(self.window_, str(self.view_box.currentData()))
        self.width_box.setValue(width)
        self.height_box.setValue(height)
        self._update_pixels()

    def _update_pixels(self) -> None:
        size, scale = (self.width_box.value(), self.height_box.value()), self.scale_box.value()
        try:
            check_pixels(size, scale, "choose a smaller size or scale")
            too_many = ""
        except ValueError as exc:
            too_many = str(exc)
        svg = self.format_box.currentData() == SVG
        # The clipboard always gets pixels (at the scale above), whatever the format.
        self.copy_button.setEnabled(not too_many)
        self.save_button.setEnabled(svg or not too_many)
        self.scale_box.setEnabled(not svg)
        if svg:
            self._set_pixels_text("SVG: drawn at the size above; scale does not apply", "hint")
        elif too_many:
            self._set_pixels_text(too_many, "error")
        else:
            width, height = device_pixels(size, scale)
            self._set_pixels_text(f"PNG of {width} × {height} pixels", "hint")

    def _set_pixels_text(self, text: str, role: str) -> None:
        self.pixels.setText(text)
        if self.pixels.property("role") != role:
            self.pixels.setProperty("role", role)
            self.pixels.style().unpolish(self.pixels)  # the style sheet colours labels by their role
            self.pixels.style().polish(self.pixels)

    def choice(self) -> ExportChoice:
        return ExportChoice(
            view=str(self.view_box.currentData()),
            fmt=str(self.format_box.currentData()),
            size=(self.width_box.value(), self.height_box.value()),
            scale=self.scale_box.value(),
            theme=str(self.theme_box.currentData()),
            caption=self.caption_edit.text().strip(),
        )

    def set_choice(self, choice: ExportChoice) -> None:
        """Fill the dialog (tests, and the next opening remembers the last choice)."""
        self.view_box.setCurrentIndex(max(0, self.view_box.findData(choice.view)))
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(choice.fmt)))
        self.width_box.setValue(choice.size[0])
        self.height_box.setValue(choice.size[1])
        self.scale_box.setValue(choice.scale)
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(choice.theme)))
        self.caption_edit.setText(choice.caption)

    def _suggested_path(self, choice: ExportChoice) -> str:
        scenario = self.window_.scenario
        stem = scenario.scenario.name if scenario is not None else "dmaviz"
        name = f"{stem}-{choice.view}.{choice.fmt}"
        folder = self.last_path.parent if self.last_path is not None else Path.home()
        return str(folder / name)

    def save(self) -> None:
        choice = self.choice()
        filters = ";;".join(FILE_FILTERS[f] for f in (choice.fmt, PNG if choice.fmt == SVG else SVG))
        path, _filter = QFileDialog.getSaveFileName(self, "Export picture", self._suggested_path(choice), filters)
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Write the picture; the file's ending (.png, .svg) wins over the format box."""
        choice = self.choice()
        fmt = picture_format(path.name)
        if fmt is None:
            path = path.with_name(path.name + "." + choice.fmt)
            fmt = choice.fmt
        try:
            export_picture(self.window_, ExportChoice(**{**choice.__dict__, "fmt": fmt}), path)
        except PictureError as exc:
            self._show_error(str(exc))
            return False
        self.last_path = path
        self.error.hide()
        self.window_.flash(f"picture saved: {path}")
        self.accept()
        return True

    def copy(self) -> None:
        try:
            copy_picture(self.window_, self.choice())
        except PictureError as exc:
            self._show_error(str(exc))
            return
        self.error.hide()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


def add_export_actions(window: MainWindow, menu: QMenu) -> tuple[QAction, QAction]:
    """File → Export Picture… and File → Copy Picture, added to ``menu`` (and to the window for the shortcuts)."""
    state: dict[str, ExportChoice] = {}

    def open_dialog() -> None:
        dialog = ExportDialog(window)
        if "last" in state:
            last = state["last"]
            dialog.set_choice(ExportChoice(**{**last.__dict__, "size": view_size(window, last.view)}))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: state.__setitem__("last", dialog.choice()))
        dialog.open()  # window-modal, does not block: the simulation and the tests carry on

    export = QAction("E&xport Picture…", window)
    export.setShortcut(QKeySequence("Ctrl+Shift+E"))
    export.setToolTip("Save a picture of the window or one panel as PNG or SVG (Ctrl+Shift+E)")
    export.setStatusTip("Save a picture of the window or one panel as PNG or SVG")
    export.triggered.connect(lambda _checked=False: open_dialog())
    copy = QAction("&Copy Picture", window)
    copy.setShortcut(QKeySequence("Ctrl+Shift+C"))
    copy.setToolTip("Copy a picture of the whole window to the clipboard (Ctrl+Shift+C)")
    copy.setStatusTip("Copy a picture of the whole window to the clipboard")
    copy.triggered.connect(lambda _checked=False: copy_picture(window))
    for action in (export, copy):
        window.addAction(action)
        menu.addAction(action)
    return export, copy
