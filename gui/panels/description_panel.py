"""The scenario's teaching text, rendered from its Markdown."""

from __future__ import annotations

from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from gui.panels.base import Panel
from gui.session_controller import SessionController


class DescriptionPanel(Panel):
    key = "description"
    title = "Scenario"
    tooltip = "What this scenario shows and what to look for."

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setToolTip("The scenario's description (Markdown from its file).")
        self.markdown = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.browser)

    def set_markdown(self, text: str) -> None:
        self.markdown = text
        self.browser.setMarkdown(text or "*This scenario has no description.*")
