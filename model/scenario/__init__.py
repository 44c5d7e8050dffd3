"""Scenario files: load and validate them, build their world, run them headless, check them.

A scenario is a TOML file (docs/scenarios.md): the machine, the device, the client
streams, timed actions (interface calls by object id and WDK method and parameter names,
port writes, notes), fault injections, breakpoints, expectations and the moment pictures
show. The built-in library lives in resources/scenarios.
"""

from model.scenario.errors import ScenarioError
from model.scenario.expectations import ExpectationResult, check_expectations
from model.scenario.loader import MAX_BYTES, builtin_names, default_name, load, load_text
from model.scenario.runner import RunSummary, run_scenario, run_world, summarize
from model.scenario.scenario import PlannedAction, Scenario, ShotMoment
from model.scenario.session import make_session
from model.scenario.world import ScenarioDriver, ScenarioWorld, build_world

__all__ = [
    "MAX_BYTES",
    "ExpectationResult",
    "PlannedAction",
    "RunSummary",
    "Scenario",
    "ScenarioDriver",
    "ScenarioError",
    "ScenarioWorld",
    "ShotMoment",
    "build_world",
    "builtin_names",
    "check_expectations",
    "default_name",
    "load",
    "load_text",
    "make_session",
    "run_scenario",
    "run_world",
    "summarize",
]
