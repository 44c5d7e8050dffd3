"""The application's excepthook: no exception escapes into the Qt event loop unnoticed.

PySide6 hands an exception raised in a slot to ``sys.excepthook`` and carries on. The
recorder keeps every such exception (the tests fail on any), prints it, and tells the
window, which shows it to the user.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ExceptionRecorder(QObject):
    recorded = Signal(str, str)  # (one-line summary, full traceback)

    def __init__(self) -> None:
        super().__init__()
        self.records: list[ExcInfo] = []
        self._previous = sys.excepthook
        self.installed = False

    def install(self) -> None:
        if not self.installed:
            self._previous = sys.excepthook
            sys.excepthook = self.hook
            self.installed = True

    def uninstall(self) -> None:
        if self.installed:
            sys.excepthook = self._previous
            self.installed = False

    def hook(self, etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        self.records.append((etype, value, tb))
        text = "".join(traceback.format_exception(etype, value, tb))
        print(text, file=sys.stderr, end="")
        summary = f"{etype.__name__}: {value}".splitlines()[0] if str(value) else etype.__name__
        self.recorded.emit(summary, text)


_RECORDER: ExceptionRecorder | None = None


def recorder() -> ExceptionRecorder:
    """The process's recorder (created on first use)."""
    global _RECORDER
    if _RECORDER is None:
        _RECORDER = ExceptionRecorder()
    return _RECORDER
