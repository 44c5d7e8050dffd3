"""The rules the contract checker enforces, and what Windows would do when one is broken."""

from __future__ import annotations

from dataclasses import dataclass

from model.kernel.types import BugCheck


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    summary: str
    windows: str  # what the real system would do


_VERIFIER_IRQL = (
    f"Driver Verifier: {BugCheck.DRIVER_VERIFIER_DETECTED_VIOLATION.describe()}; without it, pageable code "
    f"touched at raised IRQL ends in {BugCheck.DRIVER_IRQL_NOT_LESS_OR_EQUAL.describe()}"
)

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("irql", "called at an IRQL the method does not allow", _VERIFIER_IRQL),
        Rule(
            "use-after-free",
            "called a method of an object whose last reference was released",
            f"undefined: the vtable is freed pool; typically {BugCheck.PAGE_FAULT_IN_NONPAGED_AREA.describe()}, "
            f"or {BugCheck.DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL.describe()} under Driver Verifier",
        ),
        Rule(
            "data-race",
            "two contexts used the same unsynchronised object at overlapping times",
            "no error is reported: state is corrupted silently (PortCls does no locking inside IDmaChannel)",
        ),
        Rule(
            "bad-argument",
            "an argument is outside its declared type or range",
            "undefined; a checked build asserts",
        ),
        Rule(
            "allocate-twice",
            "AllocateBuffer called while a buffer is allocated",
            "documented as not allowed; the status is undocumented (ReactOS returns STATUS_UNSUCCESSFUL)",
        ),
        Rule(
            "copy-outside-buffer",
            "CopyTo/CopyFrom touched memory outside the common buffer",
            f"silent memory corruption of whatever lies there; later {BugCheck.DRIVER_CORRUPTED_EXPOOL.describe()}",
        ),
        Rule(
            "page-fault",
            "accessed a kernel address with no mapping",
            BugCheck.PAGE_FAULT_IN_NONPAGED_AREA.describe(),
        ),
        Rule(
            "map-size",
            "Start's MapSize exceeds the allocated buffer",
            "undocumented; the HAL would program the controller past the end of the buffer",
        ),
        Rule(
            "buffer-size",
            "SetBufferSize outside 1..AllocatedBufferSize",
            "undocumented; the channel stores the value and a later Start(BufferSize()) uses it",
        ),
        Rule(
            "no-buffer",
            "used the common buffer before AllocateBuffer (or after FreeBuffer)",
            f"dereferences NULL: {BugCheck.KMODE_EXCEPTION_NOT_HANDLED.describe()}",
        ),
        Rule(
            "free-while-running",
            "freed the common buffer while DMA still uses it",
            "the controller keeps reading or writing freed memory: silent corruption",
        ),
        Rule(
            "state-sequence",
            "a KS state change skipped a step (STOP↔ACQUIRE↔PAUSE↔RUN)",
            "the port never does this; a miniport that assumes stepwise changes misbehaves",
        ),
        Rule(
            "wait-for-tc",
            "WaitForTC on a running auto-initialize transfer",
            "the counter never reaches zero: the call can only time out, busy-waiting at PASSIVE_LEVEL",
        ),
        Rule(
            "release-order",
            "ReleaseMapping out of the order the mappings were acquired",
            "documented as required; the port's bookkeeping of the I/O packet goes wrong",
        ),
        Rule(
            "unknown-tag",
            "a tag that names no outstanding mapping",
            "the port cannot match it: STATUS_INVALID_PARAMETER",
        ),
        Rule(
            "common-buffer-mismatch",
            "FreeCommonBuffer arguments do not match the allocation",
            f"pool corruption: {BugCheck.DRIVER_CORRUPTED_EXPOOL.describe()}",
        ),
        Rule(
            "non-paged-pool",
            "a paged pool type where non-paged memory is required",
            f"the object is touched at DISPATCH_LEVEL: {BugCheck.DRIVER_IRQL_NOT_LESS_OR_EQUAL.describe()}",
        ),
        Rule(
            "adapter-channel",
            "adapter channel misuse (not allocated, freed twice, queued twice)",
            f"Driver Verifier DMA checks: {BugCheck.DRIVER_VERIFIER_DMA_VIOLATION.describe()}",
        ),
        Rule(
            "adapter-in-use",
            "PutDmaAdapter while the adapter's common buffers are still allocated",
            f"the buffers leak; Driver Verifier DMA checks: {BugCheck.DRIVER_VERIFIER_DMA_VIOLATION.describe()}",
        ),
        Rule(
            "map-registers",
            "more map registers or a longer transfer than the adapter allows",
            f"Driver Verifier DMA checks: {BugCheck.DRIVER_VERIFIER_DMA_VIOLATION.describe()}",
        ),
        Rule(
            "null-object",
            "NULL or unknown object passed where an object is required",
            f"dereferences NULL: {BugCheck.KMODE_EXCEPTION_NOT_HANDLED.describe()}",
        ),
        Rule(
            "wrong-interface",
            "an object that does not implement the interface the parameter needs",
            "the call goes through the wrong vtable: undefined behaviour",
        ),
        Rule(
            "internal-error",
            "dmaviz itself failed while modelling this call",
            "(not a Windows behaviour: please report it)",
        ),
    )
}
