"""The status bar: time, KS state, step, what runs next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.session.session import Session
from model.units import format_ns


@dataclass(frozen=True)
class StatusView:
    time_text: str
    step_text: str
    ks_state: str
    next_text: str
    history_text: str  # "" at the present; otherwise where we are in the recorded history


def status_view(session: Session, pin: Any | None) -> StatusView:
    state = getattr(getattr(pin, "state", None), "name", None)
    history = ""
    if session.frozen is not None:
        history = "stopped inside an event"
    elif not session.at_frontier:
        history = f"in the past: step {session.step_index} of {session.furthest_step}"
    if session.forked:
        history = (history + "; " if history else "") + "new history (forked by a call made in the past)"
    return StatusView(
        time_text=format_ns(session.now_ns),
        step_text=f"step {session.step_index}",
        ks_state=(state or "no stream").replace("KSSTATE_", ""),
        next_text=f"next: {session.describe_next()}",
        history_text=history,
    )
