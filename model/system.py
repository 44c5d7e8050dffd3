"""The whole simulated system: the PC, the kernel, and every PortCls object, with one call path.

Every interface call, whether the port makes it, a scenario asks for it or the user
presses Call in the GUI, goes through ``System.call``: it resolves the target and the
method's declaration, fills defaults, checks the call (object alive, IRQL, arguments,
overlap with other contexts), writes the call record, runs the implementation, and
fills in the outcome. Nothing a caller passes makes it raise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from model import snapshot
from model.contract.rules import RULES
from model.hardware.machine import Machine, MachineConfig
from model.interfaces.types import FromTarget, Kind, Method, Param
from model.kernel.contexts import USER_CONTEXTS, ExecutionContext, Pushed, default_context_name
from model.kernel.kernel import Kernel
from model.kernel.types import ENUM_TYPES, NTSTATUS
from model.objects import ModelObject, Out
from model.trace import CallRecord, Trace, ViolationRecord

COPY_NS_PER_BYTE = 5  # ~200 MB/s: a late-1990s memcpy, for the length of CopyTo/CopyFrom
_COPY_METHODS = frozenset({"CopyTo", "CopyFrom", "Silence"})
_RACE_WINDOW_NS = 2_000_000


class StopHere(BaseException):
    """Raised by a trace observer to freeze the model in the middle of an event (Step Into)."""


@dataclass(slots=True)
class CallResult:
    """The outcome of one call as the caller sees it."""

    executed: bool
    status: NTSTATUS | None = None
    value: Any = None
    out: dict[str, Any] = field(default_factory=dict)
    record: CallRecord | None = None
    violations: list[ViolationRecord] = field(default_factory=list)
    error: str | None = None  # why the call could not be made at all

    @property
    def ntstatus(self) -> NTSTATUS:
        """The status, or STATUS_UNSUCCESSFUL when the call returned none (refused, not executed)."""
        return self.status if self.status is not None else NTSTATUS.STATUS_UNSUCCESSFUL

    def summary(self) -> str:
        if self.error:
            return self.error
        parts = []
        if self.status is not None:
            parts.append(self.status.name)
        if self.value is not None:
            parts.append(f"returned {_show(self.value)}")
        if self.out:
            parts.append(", ".join(f"{k} = {_show(v)}" for k, v in self.out.items()))
        if self.violations:
            parts.append("; ".join(f"violation: {v.rule}" for v in self.violations))
        return "; ".join(parts) or "done"


def _show(value: Any) -> str:
    if isinstance(value, ModelObject):
        return value.object_id
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and value > 9:
        return f"0x{value:X}"
    return str(value)


class ArgumentError(ValueError):
    """An argument that does not fit its declared type or range (for the GUI's inline messages)."""

    def __init__(self, param: str, message: str, rule: str = "bad-argument") -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message
        self.rule = rule


# Kernel structures a parameter may name, by the pseudo-interface its declaration gives.
_STRUCT_CLASSES = {
    "ResourceList": "ResourceList",
    "DeviceObject": "DeviceObject",
    "Mdl": "Mdl",
    "ScatterGatherList": "ScatterGatherList",
    "DMA_OPERATIONS": "DmaAdapter",
    "AudioClient": "AudioClient",
}
_ROUTINES = {"AdapterControl": "AdapterControl", "AdapterListControl": "AdapterListControl"}


def satisfies(value: Any, interface: str | None) -> bool:
    """Can ``value`` be passed where a parameter declares ``interface``?"""
    if interface is None:
        return True
    if interface in _ROUTINES:
        return callable(getattr(value, _ROUTINES[interface], None))
    if interface in _STRUCT_CLASSES:
        return any(cls.__name__ == _STRUCT_CLASSES[interface] for cls in type(value).__mro__)
    if interface == "Irp":
        return False  # dmaviz models no IRPs: only NULL fits
    return isinstance(value, ModelObject) and value.implements(interface)


class System:
    """Root of a simulation: snapshot, restore and digest operate on this object."""

    def __init__(self, config: MachineConfig | None = None) -> None:
        self.machine = Machine(config or MachineConfig())
        self.kernel = Kernel(self.machine)
        self.objects: dict[str, ModelObject] = {}
        self.aliases: dict[str, str] = {}  # stable short names (dma, stream, sg) -> real ids
        self.strict = False  # re-raise internal errors (tests turn this on)
        self.checks_enabled = True
        self._stack: list[ModelObject] = []
        self._actors: list[str] = []
        self._current_record: CallRecord | None = None
        self._collecting: list[list[ViolationRecord]] = []
        self.violation_count = 0

    # --- clock shortcuts -------------------------------------------------------------------
    @property
    def sim(self) -> Any:
        return self.machine.sim

    @property
    def trace(self) -> Trace:
        return self.machine.sim.trace

    @property
    def now_ns(self) -> int:
        return self.machine.sim.now_ns

    # --- objects ------------------------------------------------------------------------------
    def register(self, obj: ModelObject, base_id: str) -> str:
        object_id, n = base_id, 2
        while object_id in self.objects:
            object_id = f"{base_id}{n}"
            n += 1
        self.objects[object_id] = obj
        return object_id

    def get(self, object_id: str) -> ModelObject | None:
        """An object by id or alias."""
        obj = self.objects.get(object_id)
        if obj is None and object_id in self.aliases:
            obj = self.objects.get(self.aliases[object_id])
        return obj

    def alias(self, name: str, obj: ModelObject) -> None:
        """Let ``name`` stand for ``obj`` (unless it is some other object's real id)."""
        if name != obj.object_id and name not in self.objects:
            self.aliases[name] = obj.object_id

    def names_of(self, obj: ModelObject) -> list[str]:
        """The object's id followed by its aliases."""
        return [obj.object_id, *sorted(a for a, real in self.aliases.items() if real == obj.object_id)]

    def acting_as(self, actor: str) -> Pushed[str]:
        """``with system.acting_as(actor):`` calls made in the block name ``actor`` as their caller."""
        return Pushed(self._actors, actor)

    # --- violations ---------------------------------------------------------------------------
    def violation(
        self,
        rule: str,
        message: str,
        *,
        windows: str | None = None,
        other_seq: int | None = None,
        obj: ModelObject | None = None,
        method: str = "",
    ) -> ViolationRecord | None:
        """Record that a rule was broken (no-op when checking is turned off)."""
        if not self.checks_enabled:
            return None
        current = self._current_record
        target = obj or (self._stack[-1] if self._stack else None)
        record = ViolationRecord(
            rule=rule,
            message=message,
            windows=windows or RULES[rule].windows,
            object=target.object_id if target is not None else "",
            method=method or (current.method if current is not None else ""),
            call_seq=current.seq if current is not None else None,
            other_seq=other_seq,
        )
        self.violation_count += 1
        self.sim.emit(record)
        if self._collecting:
            self._collecting[-1].append(record)
        return record

    # --- the call path ---------------------------------------------------------------------------
    def call(
        self,
        target: ModelObject | str,
        method: str,
        args: dict[str, Any] | None = None,
        *,
        context: str | ExecutionContext | None = None,
        caller: str | None = None,
    ) -> CallResult:
        """Call ``method`` on ``target`` (an object or its id) with WDK-named ``args``."""
        obj = self.get(target) if isinstance(target, str) else target
        if obj is None:
            return CallResult(False, error=f"there is no object {target!r}")
        decl = obj.method_table().get(method)
        if decl is None:
            return CallResult(False, error=f"{obj.object_id} has no method {method!r}")
        # External: made by the user or a scenario, not by a model routine (ISR, DPC, another call).
        external = not self._stack and not self._actors
        try:
            kwargs = self.prepare_args(obj, decl, args or {}) if external else dict(args or {})
        except ArgumentError as exc:
            return self._refused(obj, decl, exc, caller)
        return self._invoke(obj, decl, kwargs, context, caller, external)

    def prepare_args(self, obj: ModelObject, decl: Method, args: dict[str, Any]) -> dict[str, Any]:
        """Check and convert arguments from a scenario or the GUI; fill in defaults."""
        unknown = set(args) - {p.name for p in decl.inputs}
        if unknown:
            name = sorted(unknown)[0]
            raise ArgumentError(name, f"{decl.qualified} has no input parameter {name!r}")
        out: dict[str, Any] = {}
        for param in decl.inputs:
            if param.name in args:
                value = args[param.name]
                if param.ptype.kind == Kind.OBJECT and isinstance(value, str) and not self.names_something(value):
                    # A typo must not quietly become a NULL pointer; "NULL" says so on purpose.
                    raise ArgumentError(param.name, f'there is no object {value!r} (write "NULL" for a NULL pointer)')
                out[param.name] = self.convert_arg(param, value)
            else:
                out[param.name] = self.default_arg(obj, param)
        return out

    def default_arg(self, obj: ModelObject, param: Param) -> Any:
        default = param.default
        if isinstance(default, FromTarget):
            getter = getattr(obj, default.getter, None)
            value = getter() if callable(getter) else getter
            return (value or 0) + default.offset if isinstance(value, int) or value is None else value
        if default is None:
            return None
        return self.convert_arg(param, default)

    def convert_arg(self, param: Param, value: Any) -> Any:
        ptype = param.ptype
        if value is None:
            if param.optional or ptype.kind == Kind.OBJECT:
                return None
            raise ArgumentError(param.name, f"a value is required ({param.type})")
        if ptype.kind == Kind.INT:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ArgumentError(param.name, f"expected an integer ({param.type}), found {value!r}")
            lo, hi = param.bounds()
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ArgumentError(param.name, f"{value:#x} is outside {lo:#x}..{hi:#x}")
            return value
        if ptype.kind == Kind.BOOL:
            if not isinstance(value, bool):
                raise ArgumentError(param.name, f"expected TRUE or FALSE, found {value!r}")
            return value
        if ptype.kind == Kind.ENUM:
            enum_type = ENUM_TYPES[param.type]
            if isinstance(value, enum_type):
                return value
            if isinstance(value, str) and value in enum_type.__members__:
                return enum_type[value]
            names = ", ".join(enum_type.__members__)
            raise ArgumentError(param.name, f"expected one of {names}, found {value!r}")
        if ptype.kind == Kind.OBJECT:
            if isinstance(value, str):
                value = self.resolve_reference(value)
            elif isinstance(value, bool | int | float | list | tuple | dict):
                raise ArgumentError(param.name, f"expected an object id, found {value!r}")
            if value is not None and not satisfies(value, ptype.interface):
                name = getattr(value, "object_id", getattr(value, "name", type(value).__name__))
                raise ArgumentError(
                    param.name,
                    f"{name} is not a {ptype.interface} (the parameter is a {param.type})",
                    "wrong-interface",
                )
            return value
        if ptype.kind == Kind.STRUCT:
            if not isinstance(value, dict):
                raise ArgumentError(param.name, f"expected a table of {', '.join(ptype.fields)}")
            extra = set(value) - set(ptype.fields)
            if extra:
                raise ArgumentError(
                    param.name, f"unknown field {sorted(extra)[0]!r}; fields: {', '.join(ptype.fields)}"
                )
            return dict(value)
        if ptype.kind == Kind.IID:
            if not isinstance(value, str):
                raise ArgumentError(param.name, f"expected an interface name or IID, found {value!r}")
            return value
        raise ArgumentError(param.name, f"unsupported type {param.type}")

    def names_something(self, name: str) -> bool:
        """Whether ``name`` is "NULL", an object id or alias, or an item of one ('dma.mdl'), even if NULL now."""
        return name == "NULL" or self._lookup(name)[0]

    def resolve_reference(self, name: str) -> Any:
        """An object id, or a named kernel item such as 'dma.mdl' (an object's attribute); None for NULL."""
        return self._lookup(name)[1]  # NULL for a name of nothing: the implementation decides

    def _lookup(self, name: str) -> tuple[bool, Any]:
        """(whether ``name`` names an object or an item of one, what it names now)."""
        obj = self.get(name)
        if obj is not None:
            return True, obj
        head, _, attr = name.partition(".")
        owner = self.get(head)
        if owner is not None and attr and hasattr(owner, attr):
            return True, getattr(owner, attr)
        return False, None

    def _refused(self, obj: ModelObject, decl: Method, exc: ArgumentError, caller: str | None) -> CallResult:
        record = CallRecord(
            object=obj.object_id,
            interface=decl.interface,
            method=decl.name,
            args={},
            context="-",
            irql=self.kernel.irql,
            caller=caller or "user",
        )
        self.sim.emit(record)
        result = CallResult(False, record=record, error=str(exc))
        previous = self._current_record
        self._current_record = record
        try:
            violation = self.violation(exc.rule, f"{decl.qualified}: {exc}", obj=obj)
        finally:
            self._current_record = previous
        if violation is not None:
            result.violations.append(violation)
        if decl.returns == "NTSTATUS":
            record.status = result.status = NTSTATUS.STATUS_INVALID_PARAMETER
        return result

    def _context_for(self, decl: Method, context: str | ExecutionContext | None, external: bool) -> ExecutionContext:
        kernel = self.kernel
        if isinstance(context, ExecutionContext):
            return context
        if context is None and not (external and not kernel.stack):
            return kernel.current
        name = context if context is not None else default_context_name(decl.irql.default_level)
        kind, irql, cpu = USER_CONTEXTS[name]
        ctx = kernel.context(name, kind, irql, cpu)
        # The user (or a scenario) is one actor switching contexts, so its calls are sequential.
        latest = max(kernel.context(n, *USER_CONTEXTS[n]).busy_until_ns for n in USER_CONTEXTS)
        ctx.busy_until_ns = max(ctx.busy_until_ns, latest)
        return ctx

    def _invoke(
        self,
        obj: ModelObject,
        decl: Method,
        kwargs: dict[str, Any],
        context: str | ExecutionContext | None,
        caller: str | None,
        external: bool,
    ) -> CallResult:
        kernel = self.kernel
        kstack = kernel.stack
        current = kstack[-1] if kstack else kernel.contexts["passive"]
        ctx = current if context is None and not external else self._context_for(decl, context, external)
        pushed = external or ctx is not current
        stack = self._stack
        if caller is None:
            caller = stack[-1].object_id if stack else (self._actors[-1] if self._actors else "user")
        sim = self.machine.sim
        now = sim.now_ns
        start = ctx.busy_until_ns if ctx.busy_until_ns > now else now
        cost = decl.cost_ns
        if "ByteCount" in kwargs and decl.name in _COPY_METHODS:
            cost += COPY_NS_PER_BYTE * int(kwargs["ByteCount"] or 0)
        record = CallRecord.begin(
            obj.object_id,
            decl.interface,
            decl.name,
            {k: (v.object_id if isinstance(v, ModelObject) else v) for k, v in kwargs.items()},
            ctx.name,
            ctx.irql,
            caller,
            ctx.processor,
            len(stack),
            cost,
        )
        sim.emit(record)
        result = CallResult(True, record=record)
        previous_record = self._current_record
        self._current_record = record
        self._collecting.append(result.violations)
        if pushed:
            if ctx.busy_until_ns < now:
                ctx.busy_until_ns = now
            kstack.append(ctx)
        try:
            if not obj.alive:
                self.violation(
                    "use-after-free",
                    f"{decl.qualified} called on {obj.object_id}, which was already destroyed",
                    obj=obj,
                )
                result.executed = False
                return result
            if self.checks_enabled:
                if not decl.irql.allows(ctx.irql):
                    self.violation(
                        "irql",
                        f"{decl.qualified} must be called at {decl.irql.describe()}, "
                        f"but {ctx.name} runs at {ctx.irql.name}",
                        obj=obj,
                    )
                if obj.race_checked:
                    self._check_race(obj, decl, ctx, start, start + cost, record.seq)
            top = not stack
            stack.append(obj)
            try:
                raw = getattr(obj, decl.name)(**kwargs)
            except StopHere:
                raise
            except Exception as exc:
                # A failure of dmaviz itself: reported at the outermost call, so a run goes on.
                if self.strict or not top:
                    raise
                self.violation(
                    "internal-error",
                    f"{decl.qualified} failed inside dmaviz: {type(exc).__name__}: {exc}",
                    obj=obj,
                )
                raw = None
            finally:
                stack.pop()
            self._fill(decl, raw, result, record)
        finally:
            if pushed:
                kstack.pop()
            self._collecting.pop()
            self._current_record = previous_record
            if ctx.busy_until_ns < start + cost:
                ctx.busy_until_ns = start + cost
        return result

    @staticmethod
    def _fill(decl: Method, raw: Any, result: CallResult, record: CallRecord) -> None:
        if isinstance(raw, Out):
            value, out = raw.result, raw.out
        else:
            value, out = raw, {}
        if decl.returns == "NTSTATUS":
            result.status = value if isinstance(value, NTSTATUS) else None
            record.status = result.status
        elif decl.returns != "void":
            result.value = value
            record.value = value.object_id if isinstance(value, ModelObject) else value
        if out:
            result.out = out
            record.out = {k: (v.object_id if isinstance(v, ModelObject) else v) for k, v in out.items()}

    def _check_race(
        self, obj: ModelObject, decl: Method, ctx: ExecutionContext, start: int, end: int, seq: int
    ) -> None:
        locks = tuple(ctx.locks)
        keep = []
        horizon = start - _RACE_WINDOW_NS
        for access in obj.accesses:
            a_start, a_end, a_ctx, a_seq, a_mutates, a_locks = access
            if a_end < horizon:
                continue
            keep.append(access)
            if (
                a_ctx != ctx.name
                and not (a_ctx in USER_CONTEXTS and ctx.name in USER_CONTEXTS)
                and a_start < end
                and start < a_end
                and (a_mutates or decl.mutates)
                and not set(a_locks) & set(locks)
            ):
                other = self.trace[a_seq] if a_seq < len(self.trace) else None
                where = f"{getattr(other, 'method', '?')} from {a_ctx}" if other is not None else a_ctx
                self.violation(
                    "data-race",
                    f"{decl.qualified} from {ctx.name} overlaps {where} on {obj.object_id} "
                    f"({a_start}..{a_end} ns and {start}..{end} ns) and no lock is held by both",
                    other_seq=a_seq,
                    obj=obj,
                )
        keep.append((start, end, ctx.name, seq, decl.mutates, locks))
        obj.accesses = keep

    # --- time -------------------------------------------------------------------------------------
    def step(self) -> Any:
        return self.machine.sim.step()

    def run_until(self, t_ns: int) -> int:
        return self.machine.sim.run_until(t_ns)

    def run_for(self, duration_ns: int) -> int:
        return self.machine.sim.run_for(duration_ns)

    # --- state --------------------------------------------------------------------------------------
    def snapshot(self) -> snapshot.Snapshot:
        return snapshot.take(self)

    def restore(self, snap: snapshot.Snapshot) -> None:
        snapshot.restore(self, snap)

    def state_digest(self) -> str:
        return snapshot.digest(self)
