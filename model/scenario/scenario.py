"""Scenario: a validated scenario file, with the values the rest of dmaviz needs in model terms."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from model.hardware.machine import MachineConfig
from model.scenario import schema
from model.session.breakpoints import Breakpoint
from model.topology import StreamSpec
from model.units import format_ns
from model.wave_format import Signal, SignalKind, WaveFormat


@dataclass(frozen=True)
class TriggerSpec:
    """When an ``after`` action fires: the ``nth`` record of ``kind`` matching the filters."""

    kind: str
    object: str | None
    method: str | None
    where: tuple[tuple[str, Any], ...]
    nth: int

    def describe(self) -> str:
        head = f"{self.object}.{self.method}" if self.kind == "call" and self.object else self.kind
        if self.kind == "call" and not self.object and self.method:
            head = f"*.{self.method}"
        where = "".join(f" {k}={v}" for k, v in self.where)
        return f"{head}#{self.nth}{where}"


@dataclass(frozen=True)
class PlannedAction:
    """One action in plain values: what the driver runs (no pydantic objects at run time)."""

    index: int
    kind: str  # "call", "io" or "note"
    at_ns: int | None = None
    after: TriggerSpec | None = None
    delay_ns: int = 0
    at_step: int | None = None
    object: str | None = None
    method: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    context: str | None = None
    note: str | None = None
    port: int | None = None
    values: tuple[int, ...] = ()

    def describe(self) -> str:
        """'pin.SetState(State=KSSTATE_RUN)', 'OUT 0x22C <- 0xD1', or the note."""
        if self.kind == "call":
            args = ", ".join(f"{k}={_short(v)}" for k, v in self.args.items())
            return f"{self.object}.{self.method}({args})"
        if self.kind == "io":
            values = " ".join(f"0x{v:02X}" for v in self.values)
            return f"OUT 0x{self.port or 0:X} <- {values}"
        return f"note: {self.note}"

    def when(self) -> str:
        if self.at_step is not None:
            return f"after step {self.at_step}" + (f" at {format_ns(self.at_ns)}" if self.at_ns is not None else "")
        if self.after is not None:
            delay = f" + {format_ns(self.delay_ns)}" if self.delay_ns else ""
            return f"after {self.after.describe()}{delay}"
        return f"at {format_ns(self.at_ns or 0)}"


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and value > 9:
        return f"0x{value:X}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_short(v)}" for k, v in value.items()) + "}"
    return str(value)


def _plan(doc: schema.ScenarioFile) -> list[PlannedAction]:
    plan = []
    for index, action in enumerate(doc.action):
        common: dict[str, Any] = {
            "index": index,
            "at_ns": action.at,
            "delay_ns": action.delay or 0,
            "at_step": action.at_step,
            "note": action.note,
        }
        if action.after is not None:
            trig = action.after
            common["after"] = TriggerSpec(trig.kind, trig.object, trig.method, tuple(trig.where.items()), trig.nth)
        if isinstance(action, schema.CallActionBase):
            args = action.args.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
            plan.append(
                PlannedAction(
                    kind="call",
                    object=action.object,
                    method=action.method,  # type: ignore[attr-defined]
                    args=args,
                    context=action.context,
                    **common,
                )
            )
        elif isinstance(action, schema.IoAction):
            plan.append(PlannedAction(kind="io", port=action.io.port, values=tuple(action.io.value), **common))
        else:
            plan.append(PlannedAction(kind="note", **common))
    return plan


@dataclass(frozen=True)
class ShotMoment:
    """The moment pictures of this scenario show: a simulated time or a number of events."""

    at_ns: int | None
    event: int | None
    view: str | None


@dataclass(eq=False)
class Scenario:
    """A loaded scenario. Immutable; a world built from it refers to it without copying it."""

    doc: schema.ScenarioFile
    name: str  # the file's stem, or the built-in name
    source: str  # what was asked for: a path, a built-in name, or "<text>"
    path: Path | None = None
    text: str = ""
    builtin: bool = False
    label: str = ""  # how messages name it: the path as given, or "<name>.toml" for a built-in
    plan: list[PlannedAction] = field(init=False)

    # Snapshots keep this object as it is (see model.snapshot): it never changes and holds
    # nothing of the simulated world, so copying it into every snapshot would be waste.
    snapshot_persistent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.plan = _plan(self.doc)
        if not self.label:
            self.label = self.source or self.name

    # --- what the file says -----------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self.doc.title

    @property
    def description(self) -> str:
        """Markdown."""
        return self.doc.description

    @property
    def device(self) -> str:
        """The device kind (a key of model.topology.DEVICE_KINDS)."""
        return self.doc.device.kind

    @property
    def run_until_ns(self) -> int:
        return self.doc.run.until

    @property
    def machine_config(self) -> MachineConfig:
        m = self.doc.machine
        return MachineConfig(memory_size=m.memory, isr_latency_ns=m.isr_latency)

    @property
    def dpc_latency_ns(self) -> int:
        return self.doc.machine.dpc_latency

    @property
    def streams(self) -> list[StreamSpec]:
        out = []
        for s in self.doc.stream:
            fmt = WaveFormat(s.format.SamplesPerSec, s.format.BitsPerSample, s.format.Channels)
            signal = Signal(SignalKind(s.signal.kind), s.signal.frequency, s.signal.amplitude, s.signal.seed)
            out.append(
                StreamSpec(
                    capture=s.direction == "capture",
                    format=fmt,
                    signal=signal,
                    packet_ms=s.packet // 1_000_000,
                    packets_in_flight=s.in_flight,
                    jitter_ns=s.jitter,
                    seed=s.seed,
                    write_ahead_ns=s.write_ahead,
                    silence_threshold_ns=s.silence_threshold,
                )
            )
        return out

    @property
    def actions(self) -> list[PlannedAction]:
        return list(self.plan)

    @property
    def faults(self) -> list[Any]:
        return list(self.doc.fault)

    @property
    def expectations(self) -> list[Any]:
        return list(self.doc.expect)

    @property
    def breakpoints(self) -> list[Breakpoint]:
        """Fresh Breakpoint objects (a session counts hits on them)."""
        out = []
        for spec in self.doc.breakpoint:
            table = spec.model_dump(exclude_unset=True, exclude={"time", "time_ns"})
            time_ns = spec.time_value()
            if time_ns is not None:
                table["time_ns"] = time_ns
            out.append(Breakpoint.from_table(table))
        return out

    @property
    def shot(self) -> ShotMoment | None:
        s = self.doc.shot
        return None if s is None else ShotMoment(s.at, s.event, s.view)

    def injections(self) -> dict[int, list[PlannedAction]]:
        """The at_step actions by step: interactive calls recorded by a session."""
        out: dict[int, list[PlannedAction]] = {}
        for action in self.plan:
            if action.at_step is not None:
                out.setdefault(action.at_step, []).append(action)
        return out

    # --- writing ----------------------------------------------------------------------------------
    def to_toml(
        self,
        extra_actions: Sequence[dict[str, Any]] | None = None,
        breakpoints: Sequence[Breakpoint] | None = None,
    ) -> str:
        """The scenario as a TOML file.

        ``extra_actions`` is a session's ``recorded_actions()``: they replace the file's own
        at_step actions (a session made by make_session holds those as injections, so its
        recorded actions are all of them, and a fork may have dropped some), and ``dmaviz run``
        of the result replays the session. ``breakpoints`` replace the file's breakpoints.
        None keeps what the file has.
        """
        from model.scenario.writer import scenario_to_toml

        return scenario_to_toml(self, None if extra_actions is None else list(extra_actions), breakpoints)

    # --- snapshot protocol ---------------------------------------------------------------------------
    def checkpoint(self) -> None:
        return None

    def rollback(self, state: None) -> None:
        return None

    def digest_bytes(self) -> bytes:
        return hashlib.sha256(self.text.encode("utf-8")).digest()

    def __repr__(self) -> str:
        return f"<Scenario {self.name!r}: {self.title}>"
