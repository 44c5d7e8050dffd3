"""Where the window's sessions come from: scenario files and the built-in scenarios (model.scenario)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from model import scenario as scenarios
from model.scenario import Scenario, ScenarioError
from model.session.breakpoints import Breakpoint
from model.session.session import Session


class ScenarioLoadError(Exception):
    """A scenario that cannot be opened; the message is one line meant for the user."""


@dataclass
class LoadedScenario:
    """A scenario ready to be turned into sessions (again and again: Reload builds a fresh one)."""

    source: str  # what was asked for: a path or a built-in name
    scenario: Scenario
    make_session: Callable[[], Session]

    @property
    def title(self) -> str:
        return str(self.scenario.title)

    @property
    def description(self) -> str:
        return str(self.scenario.description or "")

    @property
    def path(self) -> Path | None:
        """The file, for Reload, recent files and the save dialog (None for text-only scenarios)."""
        return self.scenario.path

    @property
    def can_save(self) -> bool:
        return True

    def to_toml(self, session: Session, breakpoints: Sequence[Breakpoint] | None = None) -> str:
        """The scenario plus the calls made interactively in ``session``: a file that replays the session.

        ``breakpoints``: the ones to save (default: the session's; the window leaves out a Run to target).
        """
        saved = list(session.breakpoints if breakpoints is None else breakpoints)
        return self.scenario.to_toml(extra_actions=session.recorded_actions(), breakpoints=saved)


def builtin_scenarios() -> list[tuple[str, str]]:
    """(name, title) of every built-in scenario."""
    out = []
    for entry in scenarios.builtin_names():
        name, title = (entry, entry) if isinstance(entry, str) else (entry[0], entry[1])
        out.append((str(name), str(title)))
    return out


def default_name() -> str:
    return str(scenarios.default_name())


def file_filter() -> str:
    """For the Open and Save dialogs."""
    return "dmaviz scenarios (*.toml);;All files (*)"


def load(source: str | None) -> LoadedScenario:
    """Open a scenario file or a built-in scenario by name (None: the default one)."""
    name = source if source is not None else default_name()
    try:
        scenario = scenarios.load(name)
    except ScenarioError as exc:
        raise ScenarioLoadError(str(exc)) from exc
    except OSError as exc:
        raise ScenarioLoadError(f"{name}: {exc.strerror or exc}") from exc
    return LoadedScenario(name, scenario, lambda: scenarios.make_session(scenario))


def load_text(text: str, source: str = "<text>") -> LoadedScenario:
    """A scenario from TOML text (tests, pasted scenarios)."""
    try:
        scenario = scenarios.load_text(text, source)
    except ScenarioError as exc:
        raise ScenarioLoadError(str(exc)) from exc
    return LoadedScenario(source, scenario, lambda: scenarios.make_session(scenario))
