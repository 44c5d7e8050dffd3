"""Running a scenario headless, exactly as a session would, and summarising what happened.

The loop is Session.run's without the debugger: step events up to the end time, apply the
at_step actions (recorded interactive calls) after the step they were made at, then move
the clock to the end. So a file saved from a session replays to the same trace.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model.scenario.devices import device_bytes
from model.scenario.errors import ScenarioError
from model.scenario.expectations import ExpectationResult, check_expectations
from model.scenario.scenario import PlannedAction, Scenario
from model.scenario.world import ScenarioWorld, build_world
from model.units import format_ns

Progress = Callable[[int, int], None]  # (simulated now, simulated end), both in ns
_PROGRESS_EVERY = 2048  # steps between progress reports


@dataclass
class RunSummary:
    """What a run did, in numbers, and whether the scenario's expectations hold."""

    scenario: str
    title: str
    simulated_ns: int
    steps: int
    records: int
    bytes_moved: int  # by the device's DMA (played plus recorded)
    bytes_copied: int  # by the port (CopyTo/CopyFrom)
    interrupts: int  # service routines run
    notifications: int  # IPortXxx::Notify calls
    dpcs: int
    glitches: int
    violations: int
    violations_by_rule: dict[str, int] = field(default_factory=dict)
    expectations: list[ExpectationResult] = field(default_factory=list)
    world: ScenarioWorld | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.expectations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "simulated_ns": self.simulated_ns,
            "steps": self.steps,
            "records": self.records,
            "bytes_moved": self.bytes_moved,
            "bytes_copied": self.bytes_copied,
            "interrupts": self.interrupts,
            "notifications": self.notifications,
            "dpcs": self.dpcs,
            "glitches": self.glitches,
            "violations": self.violations,
            "violations_by_rule": dict(sorted(self.violations_by_rule.items())),
            "expectations": [e.to_dict() for e in self.expectations],
            "passed": self.passed,
        }

    def to_json(self) -> str:
        """The summary as one line of JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    def to_text(self) -> str:
        """A few lines for people."""
        rules = ""
        if self.violations_by_rule:
            rules = " (" + ", ".join(f"{k} {v}" for k, v in sorted(self.violations_by_rule.items())) + ")"
        held = sum(e.passed for e in self.expectations)
        lines = [
            f"{self.scenario}: {self.title}",
            f"  simulated {format_ns(self.simulated_ns)} in {self.steps} events ({self.records} trace records)",
            f"  bytes moved by DMA {self.bytes_moved}, copied by the port {self.bytes_copied}",
            f"  interrupts {self.interrupts}, notifications {self.notifications}, DPCs {self.dpcs}, "
            f"glitches {self.glitches}, violations {self.violations}{rules}",
            f"  expectations: {held} of {len(self.expectations)} hold",
        ]
        for e in self.expectations:
            lines.append(f"    {'ok  ' if e.passed else 'FAIL'} [{e.index}] {e.label}: {e.detail}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def run_scenario(scenario: Scenario, until_ns: int | None = None, progress: Progress | None = None) -> RunSummary:
    """Build the scenario's world, run it to ``until_ns`` (default: the file's run.until), check it."""
    world = build_world(scenario)
    run_world(world, until_ns, progress)
    return summarize(world)


def run_world(world: ScenarioWorld, until_ns: int | None = None, progress: Progress | None = None) -> None:
    """Run a freshly built world headless to ``until_ns``."""
    scenario = world.scenario
    until = scenario.run_until_ns if until_ns is None else until_ns
    system = world.system
    sim = system.sim
    injections = scenario.injections()

    def apply(step: int) -> None:
        for action in injections.get(step, ()):
            _inject(world, action, step)

    apply(0)
    last_report = 0
    while True:
        event = sim.peek()
        if event is None or event.time_ns > until:
            break
        sim.step()
        if injections:
            apply(sim.steps)
        if progress is not None and sim.steps - last_report >= _PROGRESS_EVERY:
            last_report = sim.steps
            progress(sim.now_ns, until)
    if sim.now_ns < until:
        sim.advance_to(until)
    if progress is not None:
        progress(until, until)


def _inject(world: ScenarioWorld, action: PlannedAction, step: int) -> None:
    """An at_step action, applied exactly as Session._apply_injections applies a recorded call."""
    sim = world.system.sim
    if action.at_ns is not None and sim.now_ns < action.at_ns:
        event = sim.peek()
        if event is not None and action.at_ns > event.time_ns:
            raise ScenarioError(
                f"at_step {step} with at = {format_ns(action.at_ns)}, but event {step + 1} runs earlier, at "
                f"{format_ns(event.time_ns)}; the clock cannot pass it",
                source=world.scenario.label,
                where=f"action[{action.index}]",
            )
        sim.advance_to(action.at_ns)
    assert action.object is not None and action.method is not None
    world.system.call(action.object, action.method, dict(action.args), context=action.context, caller="user")


def summarize(world: ScenarioWorld) -> RunSummary:
    """The numbers of a world that has run, and its expectations checked."""
    system = world.system
    notifications = glitches = 0
    rules: Counter[str] = Counter()
    for record in system.trace.records:
        kind = record.kind
        if kind == "call":
            if record.method == "Notify":  # type: ignore[attr-defined]
                notifications += 1
        elif kind == "glitch":
            glitches += 1
        elif kind == "violation":
            rules[record.rule] += 1  # type: ignore[attr-defined]
    scenario = world.scenario
    return RunSummary(
        scenario=scenario.name,
        title=scenario.title,
        simulated_ns=system.now_ns,
        steps=system.sim.steps,
        records=len(system.trace),
        bytes_moved=device_bytes(world.topology),
        bytes_copied=sum(int(getattr(pin, "bytes_copied", 0)) for pin in world.topology.pins),
        interrupts=system.kernel.isr_count,
        notifications=notifications,
        dpcs=system.kernel.dpc_count,
        glitches=glitches,
        violations=sum(rules.values()),
        violations_by_rule=dict(rules),
        expectations=check_expectations(world),
        world=world,
    )
