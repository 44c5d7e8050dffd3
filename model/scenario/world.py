"""Building the simulated world a scenario describes, and the driver that plays its actions.

``build_world`` does, in order: the machine (memory, ISR latency), the DPC latency, memory
pressure (before the driver starts, so before AllocateBuffer), the device's driver
(Topology.install: IPort::Init), the streams (one pin each), the other faults, and then
checks every action against the objects that now exist. The ScenarioDriver schedules
timed actions as simulator events and watches the trace for ``after`` triggers; it is
plain model state (bound methods, no closures), so snapshots carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model.hardware.memory import PAGE_SIZE, PageOwner
from model.interfaces.types import Kind
from model.kernel.kernel import LatencySpike
from model.kernel.types import NTSTATUS
from model.objects import ModelObject
from model.scenario import schema
from model.scenario.errors import ScenarioError, show, suggest
from model.scenario.methods import creates_objects
from model.scenario.scenario import PlannedAction, Scenario, TriggerSpec
from model.system import ArgumentError, System
from model.topology import Topology
from model.trace import MemoryRecord, NoteRecord, Record, json_value
from model.units import format_ns
from model.wave_format import Signal, SignalKind

# Fields whose values name objects: an alias in a filter ("dma") matches the real id ("dma16").
_OBJECT_FIELDS = ("object", "stream", "caller")


def resolve_name(system: System, name: Any) -> Any:
    """The real object id for an id or alias (other values unchanged)."""
    if isinstance(name, str):
        return system.aliases.get(name, name)
    return name


# Parts of a call record filled in only when the call returns.
_OUTCOME = ("status", "value", "out")


def is_outcome_key(key: str) -> bool:
    return key.split(".", 1)[0] in _OUTCOME


def field_value(record: Record, key: str) -> Any:
    """A record's field in its JSON form; "args.Tag" and "out.ByteCount" reach into tables."""
    head, _, rest = key.partition(".")
    value = json_value(getattr(record, head, None))
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value


def record_matches(system: System, record: Record, where: tuple[tuple[str, Any], ...] | dict[str, Any]) -> bool:
    items = where.items() if isinstance(where, dict) else where
    for key, wanted in items:
        actual = field_value(record, key)
        if key in _OBJECT_FIELDS:
            wanted = resolve_name(system, wanted)
        if actual != wanted:
            return False
    return True


class ScenarioDriver:
    """Runs the scenario's actions at their times or after their trigger events."""

    def __init__(self, system: System, scenario: Scenario) -> None:
        self.system = system
        self.scenario = scenario
        self.results: dict[int, dict[str, Any]] = {}  # action index -> outcome
        self.counts: dict[int, int] = {}  # after-action index -> matching records seen
        self.waiting: list[int] = []  # after-actions whose trigger has not come yet

    def watch(self) -> None:
        """Start counting records for the ``after`` triggers (before the driver starts, so its
        calls count too: "the first AllocateBuffer" is one the miniport makes in IPort::Init)."""
        self.waiting = [a.index for a in self.scenario.plan if a.after is not None and a.at_step is None]
        if self.waiting:
            self.system.sim.watchers.append(self.on_record)

    def start(self) -> None:
        """Schedule the timed actions and the fault notes."""
        sim = self.system.sim
        for action in self.scenario.plan:
            if action.at_step is None and action.at_ns is not None:
                sim.schedule_at(
                    action.at_ns, self.run_action, action.index, name=_event_name(action), source="scenario"
                )
        for index, fault in enumerate(self.scenario.doc.fault):
            if isinstance(fault, schema.Starve | schema.DpcSpike):
                what = (
                    f"{fault.client} starves (submits no packets)"
                    if isinstance(fault, schema.Starve)
                    else f"DPC latency +{format_ns(fault.extra)}"
                )
                sim.schedule_at(
                    fault.start,
                    self.fault_note,
                    f"fault[{index}]: {what} until {format_ns(fault.end)}",
                    name=f"fault[{index}] begins",
                    source="scenario",
                )
                sim.schedule_at(
                    fault.end, self.fault_note, f"fault[{index}] ends", name=f"fault[{index}] ends", source="scenario"
                )

    # --- triggers ------------------------------------------------------------------------------------
    def on_record(self, record: Record) -> None:
        """A simulator watcher: counts records towards the ``after`` triggers still waiting."""
        if not self.waiting:
            return
        plan = self.scenario.plan
        for index in tuple(self.waiting):
            action = plan[index]
            trigger = action.after
            if trigger is None or record.kind != trigger.kind or not self._matches(trigger, record, outcome=False):
                continue
            if record.kind == "call" and any(is_outcome_key(k) for k, _ in trigger.where):
                # The call has not returned yet: look at its outcome once it has, in an event
                # of its own at this same time.
                self.system.sim.schedule_in(
                    0, self.check_call, index, record.seq, name=f"action[{index}] trigger?", source="scenario"
                )
                continue
            self._count(index)

    def check_call(self, index: int, seq: int) -> None:
        """The outcome part of a trigger, checked after the call returned."""
        if index not in self.waiting:
            return
        trigger = self.scenario.plan[index].after
        record = self.system.trace.records[seq]
        if trigger is not None and self._matches(trigger, record, outcome=True):
            self._count(index)

    def _count(self, index: int) -> None:
        action = self.scenario.plan[index]
        assert action.after is not None
        seen = self.counts.get(index, 0) + 1
        self.counts[index] = seen
        if seen >= action.after.nth:
            self.waiting.remove(index)
            # Run as an event of its own after the one that produced the record, never
            # inside it: the model is in the middle of something right now.
            self.system.sim.schedule_in(
                action.delay_ns, self.run_action, index, name=_event_name(action), source="scenario"
            )

    def _matches(self, trigger: TriggerSpec, record: Record, *, outcome: bool) -> bool:
        """Does ``record`` match? ``outcome``: test the outcome filters (else all the others)."""
        system = self.system
        if not outcome:
            if trigger.object is not None and getattr(record, "object", None) != resolve_name(system, trigger.object):
                return False
            if trigger.method is not None and getattr(record, "method", None) != trigger.method:
                return False
        where = tuple((k, v) for k, v in trigger.where if is_outcome_key(k) == outcome or record.kind != "call")
        return record_matches(system, record, where)

    # --- actions -----------------------------------------------------------------------------------------
    def run_action(self, index: int) -> None:
        action = self.scenario.plan[index]
        system = self.system
        if action.note:
            system.sim.emit(NoteRecord(text=action.note, source="scenario"))
        if action.kind == "call":
            assert action.object is not None and action.method is not None
            result = system.call(
                action.object, action.method, dict(action.args), context=action.context, caller="scenario"
            )
            record = result.record
            self.results[index] = {
                "executed": result.executed,
                "status": record.status.name if record is not None and record.status is not None else None,
                "value": json_value(record.value) if record is not None else None,
                "out": json_value(record.out or {}) if record is not None else {},
                "error": result.error,
                "seq": record.seq if record is not None else None,
                "t_ns": system.now_ns,
            }
            if record is None and result.error:
                system.sim.emit(NoteRecord(text=f"action[{index}] not made: {result.error}", source="scenario"))
        elif action.kind == "io":
            machine = system.machine
            for value in action.values:
                machine.io_write(action.port or 0, value)

    def fault_note(self, text: str) -> None:
        self.system.sim.emit(NoteRecord(text=text, source="scenario"))


def _event_name(action: PlannedAction) -> str:
    return f"action[{action.index}] {action.describe()}"


@dataclass(eq=False)
class ScenarioWorld:
    """What a Session runs: the system, its topology, the scenario and the driver playing it."""

    system: System
    topology: Topology
    scenario: Scenario
    driver: ScenarioDriver
    install_status: NTSTATUS

    @property
    def pins(self) -> list[Any]:
        return list(self.topology.pins)


def build_world(scenario: Scenario) -> ScenarioWorld:
    """A fresh world in the state the scenario starts from (time 0, nothing run yet)."""
    doc = scenario.doc
    name = scenario.label
    try:
        topology = Topology(scenario.device, scenario.machine_config)
    except ValueError as exc:
        raise ScenarioError(str(exc), source=name, where="device.kind") from None
    system = topology.system
    driver = ScenarioDriver(system, scenario)
    driver.watch()
    system.kernel.dpc_latency_ns = scenario.dpc_latency_ns
    _memory_pressure(system, doc)
    status = topology.install()
    for index, spec in enumerate(scenario.streams):
        pin = topology.open_stream(spec)
        if pin is None:
            why = "" if status == NTSTATUS.STATUS_SUCCESS else f" (IPort::Init returned {status.name})"
            raise ScenarioError(
                f"the {scenario.device} driver refused to open this stream{why}", source=name, where=f"stream[{index}]"
            )
        if spec.capture:
            _set_capture_signal(topology, pin, doc.stream[index])
    for index, fault in enumerate(doc.fault):
        if isinstance(fault, schema.Starve):
            client = system.get(fault.client)
            if client is None or not hasattr(client, "starve"):
                raise ScenarioError(f"{fault.client} is not a client", source=name, where=f"fault[{index}].client")
            client.starve(fault.start, fault.end)
        elif isinstance(fault, schema.DpcSpike):
            system.kernel.spikes.append(LatencySpike(fault.start, fault.end, fault.extra))
    _check_actions(system, scenario)
    _check_expectations(system, scenario)
    driver.start()
    return ScenarioWorld(system, topology, scenario, driver, status)


def _memory_pressure(system: System, doc: schema.ScenarioFile) -> None:
    """Fragmentation and memory pressure: applied before the driver allocates anything."""
    memory = system.machine.memory
    sim = system.sim
    tables: list[Any] = []
    if doc.machine.fragmentation is not None:
        tables.append(doc.machine.fragmentation)
    tables += [f for f in doc.fault if isinstance(f, schema.MemoryPressure)]
    for table in tables:
        if table.fraction or table.largest_free_run is not None:
            run = None if table.largest_free_run is None else table.largest_free_run // PAGE_SIZE
            taken = memory.fragment(table.fraction, table.seed, max_free_run_pages=run)
            sim.emit(
                MemoryRecord(
                    action="pressure",
                    address=0,
                    length=taken * PAGE_SIZE,
                    owner="SYSTEM",
                    label=f"fragmentation: {taken} pages taken at random (seed {table.seed})",
                )
            )
        for occupied in getattr(table, "occupy", ()):
            first = min(memory.n_pages, occupied.address // PAGE_SIZE)
            last = min(memory.n_pages, -(-(occupied.address + occupied.length) // PAGE_SIZE))
            # Reserve each run of free pages in the range (pages already in use stay as they are).
            free = np.concatenate(([False], memory.owner[first:last] == PageOwner.FREE, [False]))
            edges = np.flatnonzero(np.diff(free.astype(np.int8)))
            taken = 0
            for start, end in zip(edges[0::2], edges[1::2], strict=True):
                memory.reserve((first + int(start)) * PAGE_SIZE, int(end - start) * PAGE_SIZE, "memory pressure")
                taken += int(end - start)
            sim.emit(
                MemoryRecord(
                    action="pressure",
                    address=occupied.address,
                    length=occupied.length,
                    owner="SYSTEM",
                    label=f"memory pressure: {taken} free pages occupied",
                )
            )


def _set_capture_signal(topology: Topology, pin: Any, spec: schema.Stream) -> None:
    """What the capture device hears: the stream's signal."""
    from model.scenario.devices import device_io

    _, source = device_io(topology, pin)
    if source is not None and hasattr(source, "signal"):
        s = spec.signal
        source.signal = Signal(SignalKind(s.kind), s.frequency, s.amplitude, s.seed)


def _objects_listing(system: System) -> str:
    names = sorted(set(system.objects) | set(system.aliases))
    return ", ".join(names)


def _check_actions(system: System, scenario: Scenario) -> None:
    """Every call names an object that exists, a method it has, and arguments that fit."""
    name = scenario.label
    # Objects an action creates (PcNewDmaChannel's channel) do not exist yet: when a scenario
    # has such an action, unknown ids are left to run time (where a failed call is reported).
    lenient = any(a.kind == "call" and creates_objects(a.method or "") for a in scenario.plan)
    for action in scenario.plan:
        if action.kind != "call":
            continue
        where = f"action[{action.index}]"
        obj = system.get(action.object or "")
        if obj is None:
            if lenient:
                continue
            ids = sorted(set(system.objects) | set(system.aliases))
            raise ScenarioError(
                f"there is no object {show(action.object)}{suggest(action.object or '', ids)}; "
                f"objects: {_objects_listing(system)}",
                source=name,
                where=f"{where}.object",
            )
        decl = obj.method_table().get(action.method or "")
        if decl is None:
            methods = ", ".join(sorted(obj.method_table())) or "(none)"
            raise ScenarioError(
                f"{obj.object_id} ({obj.kind}) has no method {action.method}; its methods: {methods}",
                source=name,
                where=f"{where}.method",
            )
        inputs = {p.name: p for p in decl.inputs}
        for key, value in action.args.items():
            param = inputs.get(key)
            if param is None:
                raise ScenarioError(
                    f"{decl.qualified} has no input parameter {key}{suggest(key, list(inputs))}; "
                    f"its input parameters: {', '.join(inputs) or '(none)'}",
                    source=name,
                    where=f"{where}.args.{key}",
                )
            try:
                system.convert_arg(param, value)
            except ArgumentError as exc:
                raise ScenarioError(exc.message, source=name, where=f"{where}.args.{key}") from None
            if (
                param.ptype.kind == Kind.OBJECT
                and isinstance(value, str)
                and not system.names_something(value)
                and not lenient
            ):
                raise ScenarioError(
                    f"there is no object {show(value)}; objects: {_objects_listing(system)}",
                    source=name,
                    where=f"{where}.args.{key}",
                )


def _check_expectations(system: System, scenario: Scenario) -> None:
    for index, exp in enumerate(scenario.doc.expect):
        if isinstance(exp, schema.ExpectAudio):
            pin = system.get(exp.audio)
            if not isinstance(pin, ModelObject) or not hasattr(pin, "client"):
                pins = sorted(k for k, v in system.objects.items() if hasattr(v, "client"))
                raise ScenarioError(
                    f"{show(exp.audio)} is not a pin (a stream); pins: {', '.join(pins) or '(none)'}",
                    source=scenario.label,
                    where=f"expect[{index}].audio",
                )
