"""Random sequences of every declared interface method on a live stream (hypothesis, stateful).

Whatever is called, with whatever arguments, from whatever context: no Python exception
escapes, an argument outside its declared type or range yields STATUS_INVALID_PARAMETER
(for NTSTATUS methods) and a recorded violation, and the model's invariants hold.
"""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from model.hardware.memory import PAGE_SIZE, PageOwner
from model.interfaces.types import FromTarget, Kind, Param
from model.kernel.types import ENUM_TYPES, NTSTATUS
from model.portcls.dma_channel import DmaChannel
from model.system import ArgumentError
from model.units import MS
from tests.model.portcls.stacks import sb16

CONTEXTS = (None, "passive", "dispatch", "isr")


def valid_value(param: Param, data: st.DataObject) -> Any:
    ptype = param.ptype
    if ptype.kind == Kind.INT:
        lo, hi = param.bounds()
        lo = 0 if lo is None else max(lo, 0)
        hi = min(hi if hi is not None else 0xFFFF_FFFF, 0x20000)
        return data.draw(st.integers(lo, hi) | st.sampled_from([lo, hi, 0x1000, 0x4000]))
    if ptype.kind == Kind.BOOL:
        return data.draw(st.booleans())
    if ptype.kind == Kind.ENUM:
        return data.draw(st.sampled_from(list(ENUM_TYPES[param.type].__members__)))
    if ptype.kind == Kind.IID:
        return data.draw(st.sampled_from(["IUnknown", "IDmaChannel", "IDmaChannelSlave", "IServiceGroup", "{BAD}"]))
    if ptype.kind == Kind.OBJECT:
        return data.draw(st.sampled_from(["dma", "stream", "sg", "pin", "port", "device", "resources", "nothing"]))
    return param.default if not isinstance(param.default, FromTarget) else None


def invalid_value(param: Param, data: st.DataObject) -> Any:
    ptype = param.ptype
    if ptype.kind == Kind.INT:
        lo, hi = param.bounds()
        return data.draw(st.sampled_from([(lo or 0) - 1, (hi or 0) + 1, "0x10", 1.5, True]))
    if ptype.kind == Kind.BOOL:
        return data.draw(st.sampled_from([0, "TRUE", None]))
    if ptype.kind == Kind.ENUM:
        return data.draw(st.sampled_from(["NOT_A_NAME", 7, None]))
    if ptype.kind == Kind.STRUCT:
        return data.draw(st.sampled_from([{"NoSuchField": 1}, "text", 5]))
    return data.draw(st.sampled_from([12, 3.5, ["x"]]))


class RandomCalls(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.topology, _ = sb16()
        self.system = self.topology.system
        self.system.run_for(15 * MS)

    @rule(data=st.data(), invalid=st.booleans())
    def call_something(self, data: st.DataObject, invalid: bool) -> None:
        system = self.system
        obj = data.draw(st.sampled_from(sorted(system.objects.values(), key=lambda o: o.object_id)))
        table = obj.method_table()
        if not table:
            return
        method = table[data.draw(st.sampled_from(sorted(table)))]
        args: dict[str, Any] = {}
        broken: str | None = None
        for param in method.inputs:
            if data.draw(st.booleans()):
                continue  # leave it to the default
            if invalid and broken is None and data.draw(st.booleans()):
                value = invalid_value(param, data)
                try:
                    system.convert_arg(param, value)
                except ArgumentError:
                    broken = param.name
                args[param.name] = value
            else:
                args[param.name] = valid_value(param, data)
        context = data.draw(st.sampled_from(CONTEXTS))
        result = system.call(obj.object_id, method.name, args, context=context, caller="user")
        if broken is not None:
            assert not result.executed
            assert any(v.rule in ("bad-argument", "wrong-interface") for v in result.violations)
            if method.returns == "NTSTATUS":
                assert result.status == NTSTATUS.STATUS_INVALID_PARAMETER
        assert not any(v.rule == "internal-error" for v in result.violations)

    @rule(ms=st.integers(0, 40))
    def let_time_pass(self, ms: int) -> None:
        self.system.run_for(ms * MS)

    @invariant()
    def channels_are_consistent(self) -> None:
        memory = self.system.machine.memory
        for obj in self.system.objects.values():
            if isinstance(obj, DmaChannel) and obj.alive:
                assert (obj.buffer_va == 0) == (obj.allocated == 0)
                if obj.buffer_va:
                    first = obj.buffer_physical // PAGE_SIZE
                    pages = -(-max(obj.allocated, 1) // PAGE_SIZE)
                    assert np.all(memory.owner[first : first + pages] == PageOwner.COMMON_BUFFER)

    @invariant()
    def common_buffer_pages_are_accounted_for(self) -> None:
        memory = self.system.machine.memory
        live = sum(len(a.pages) for a in memory.allocations.values() if a.owner == PageOwner.COMMON_BUFFER)
        assert live == int(np.count_nonzero(memory.owner == PageOwner.COMMON_BUFFER))

    @invariant()
    def registers_and_trace_in_range(self) -> None:
        for number in (0, 1, 2, 3, 5, 6, 7):
            channel = self.system.machine.dma.channel(number)
            assert 0 <= channel.current_count <= 0xFFFF and 0 <= channel.current_address <= 0xFFFF
        records = self.system.trace.records
        if len(records) > 1:
            assert records[-1].seq == len(records) - 1
            assert records[-2].t_ns <= records[-1].t_ns


TestRandomCalls = RandomCalls.TestCase
TestRandomCalls.settings = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
