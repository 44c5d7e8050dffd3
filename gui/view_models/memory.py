"""Physical memory as a map of pages: who owns each, the followed stream's pages, damage, ISA and 64 KiB limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model.hardware.memory import ISA_LIMIT, PAGE_SIZE, PageOwner
from model.system import System

# Map codes (the panel's colour table follows this order).
FREE, SYSTEM, COMMON, CLIENT, MAP_REGISTERS, STREAM_COMMON, STREAM_CLIENT, DAMAGED = range(8)
CODE_NAMES = (
    "free",
    "system",
    "other common buffers",
    "other client buffers",
    "map register buffers",
    "this stream's common buffer",
    "this stream's client buffers",
    "damaged by a bad write",
)
_OWNER_CODE = {
    PageOwner.FREE: FREE,
    PageOwner.SYSTEM: SYSTEM,
    PageOwner.COMMON_BUFFER: COMMON,
    PageOwner.CLIENT_BUFFER: CLIENT,
    PageOwner.MAP_REGISTER_BUFFER: MAP_REGISTERS,
}
_LOOKUP = np.array([_OWNER_CODE.get(PageOwner(i), SYSTEM) for i in range(len(PageOwner))], dtype=np.uint8)

COLUMNS = 256  # pages per row: 1 MiB, so a 64 KiB boundary falls every 16 columns


@dataclass
class MemoryView:
    codes: np.ndarray  # (rows, COLUMNS) uint8
    n_pages: int
    isa_row: float  # the 16 MiB line, in rows
    counts: dict[str, int]
    version: int
    stream_pages: tuple[int, ...] = ()
    client_pages: tuple[int, ...] = ()

    @property
    def rows(self) -> int:
        return int(self.codes.shape[0])


def memory_view(system: System, pin: Any | None) -> MemoryView:
    memory = system.machine.memory
    n = memory.n_pages
    codes = _LOOKUP[np.minimum(memory.owner, len(_LOOKUP) - 1)]
    stream_pages = _common_buffer_pages(pin)
    client_pages = _client_pages(system, pin)
    if stream_pages:
        codes[np.fromiter(stream_pages, dtype=np.int64)] = STREAM_COMMON
    if client_pages:
        codes[np.fromiter(client_pages, dtype=np.int64)] = STREAM_CLIENT
    codes[memory.damaged] = DAMAGED
    rows = -(-n // COLUMNS)
    grid = np.full(rows * COLUMNS, FREE, dtype=np.uint8)
    grid[:n] = codes
    counts = {name: int(np.count_nonzero(codes == i)) for i, name in enumerate(CODE_NAMES)}
    return MemoryView(
        grid.reshape(rows, COLUMNS),
        n,
        ISA_LIMIT / PAGE_SIZE / COLUMNS,
        counts,
        memory.version,
        stream_pages,
        client_pages,
    )


def _common_buffer_pages(pin: Any | None) -> tuple[int, ...]:
    dma = getattr(pin, "dma", None)
    base = int(getattr(dma, "buffer_physical", 0) or 0)
    length = int(getattr(dma, "allocated", 0) or 0)
    if not base or not length:
        return ()
    first = base // PAGE_SIZE
    return tuple(range(first, -(-(base + length) // PAGE_SIZE)))


def _client_pages(system: System, pin: Any | None) -> tuple[int, ...]:
    client = getattr(pin, "client", None)
    space = system.kernel.address_space
    pages: list[int] = []
    for va, _mdl in getattr(client, "buffers", ()):
        mapping = space.find(va)
        if mapping is not None:
            pages.extend(mapping.pages)
    return tuple(pages)


def describe_page(system: System, page: int) -> str:
    """One line about a page (for the hover text)."""
    memory = system.machine.memory
    if not 0 <= page < memory.n_pages:
        return ""
    address = page * PAGE_SIZE
    owner = PageOwner(int(memory.owner[page])).name
    allocation = memory.allocation_at(address)
    label = f" '{allocation.label}'" if allocation is not None and allocation.label else ""
    where = "below" if address < ISA_LIMIT else "above"
    damaged = "; DAMAGED by a write outside a buffer" if memory.damaged[page] else ""
    return (
        f"page {page:#x}: 0x{address:08X}-0x{address + PAGE_SIZE - 1:08X}, {owner}{label}, "
        f"{where} 16 MiB, 64 KiB block {address >> 16:#x}{damaged}"
    )
