"""A debugging session over a scenario: its world, its breakpoints, its recorded calls."""

from __future__ import annotations

from model.scenario.scenario import Scenario
from model.scenario.world import build_world
from model.session.session import Injection, Session


def make_session(scenario: Scenario) -> Session:
    """A Session that builds the scenario's world; at_step actions become its injections.

    The factory is a closure, which is fine: the session keeps the factory, it never
    snapshots it. Calls recorded at step 0 are applied at once (Restart does the same).
    """
    session = Session(lambda: build_world(scenario))
    session.breakpoints.extend(scenario.breakpoints)
    for step, actions in scenario.injections().items():
        session.injections[step] = [
            Injection(
                step,
                action.at_ns if action.at_ns is not None else 0,
                action.object or "",
                action.method or "",
                dict(action.args),
                action.context,
            )
            for action in actions
        ]
    if 0 in session.injections:
        session.restart()
    return session
