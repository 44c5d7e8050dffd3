"""Kernel constants with their WDK names: IRQLs, NTSTATUS codes, bug checks, enumerations."""

from __future__ import annotations

import enum


class Irql(enum.IntEnum):
    """Interrupt request levels, in the order that matters (DIRQL stands for any device level)."""

    PASSIVE_LEVEL = 0
    APC_LEVEL = 1
    DISPATCH_LEVEL = 2
    DIRQL = 3


class NTSTATUS(enum.IntEnum):
    STATUS_SUCCESS = 0x00000000
    STATUS_PENDING = 0x00000103
    STATUS_UNSUCCESSFUL = 0xC0000001
    STATUS_INVALID_PARAMETER = 0xC000000D
    STATUS_INVALID_DEVICE_REQUEST = 0xC0000010
    STATUS_NO_MEMORY = 0xC0000017
    STATUS_INSUFFICIENT_RESOURCES = 0xC000009A
    STATUS_DEVICE_NOT_READY = 0xC00000A3
    STATUS_NOT_SUPPORTED = 0xC00000BB
    STATUS_DEVICE_CONFIGURATION_ERROR = 0xC0000182
    STATUS_NOT_FOUND = 0xC0000225
    STATUS_INVALID_DEVICE_STATE = 0xC0000184

    @property
    def success(self) -> bool:
        return self.value < 0x80000000

    def describe(self) -> str:
        return f"{self.name} (0x{self.value:08X})"


class BugCheck(enum.IntEnum):
    """Stop codes the contract checker names as what Windows would do."""

    IRQL_NOT_LESS_OR_EQUAL = 0x0A
    KMODE_EXCEPTION_NOT_HANDLED = 0x1E
    PAGE_FAULT_IN_NONPAGED_AREA = 0x50
    DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4
    DRIVER_CORRUPTED_EXPOOL = 0xC5
    DRIVER_IRQL_NOT_LESS_OR_EQUAL = 0xD1
    DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL = 0xD5
    DRIVER_VERIFIER_DMA_VIOLATION = 0xE6

    def describe(self) -> str:
        return f"bug check 0x{self.value:X} {self.name}"


class KSSTATE(enum.IntEnum):
    KSSTATE_STOP = 0
    KSSTATE_ACQUIRE = 1
    KSSTATE_PAUSE = 2
    KSSTATE_RUN = 3


class DMA_WIDTH(enum.IntEnum):
    Width8Bits = 0
    Width16Bits = 1
    Width32Bits = 2
    MaximumDmaWidth = 3


class DMA_SPEED(enum.IntEnum):
    Compatible = 0
    TypeA = 1
    TypeB = 2
    TypeC = 3
    TypeF = 4
    MaximumDmaSpeed = 5


class INTERFACE_TYPE(enum.IntEnum):
    InterfaceTypeUndefined = -1
    Internal = 0
    Isa = 1
    Eisa = 2
    PCIBus = 5


class POOL_TYPE(enum.IntEnum):
    NonPagedPool = 0
    PagedPool = 1
    NonPagedPoolMustSucceed = 2
    NonPagedPoolCacheAligned = 4


class IO_ALLOCATION_ACTION(enum.IntEnum):
    KeepObject = 1
    DeallocateObject = 2
    DeallocateObjectKeepRegisters = 3


ENUM_TYPES: dict[str, type[enum.IntEnum]] = {
    "KSSTATE": KSSTATE,
    "DMA_WIDTH": DMA_WIDTH,
    "DMA_SPEED": DMA_SPEED,
    "INTERFACE_TYPE": INTERFACE_TYPE,
    "POOL_TYPE": POOL_TYPE,
    "IO_ALLOCATION_ACTION": IO_ALLOCATION_ACTION,
}

PAGE_SIZE = 4096


def bytes_to_pages(n: int) -> int:
    """BYTES_TO_PAGES."""
    return (n + PAGE_SIZE - 1) // PAGE_SIZE


def address_and_size_to_span_pages(va: int, size: int) -> int:
    """ADDRESS_AND_SIZE_TO_SPAN_PAGES."""
    if size == 0:
        return 0
    return ((va & (PAGE_SIZE - 1)) + size + PAGE_SIZE - 1) // PAGE_SIZE
