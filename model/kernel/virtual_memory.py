"""Kernel virtual addresses and the MDLs that describe the physical pages behind them.

System virtual addresses are 32-bit (the XP-era x86 layout that slave DMA belongs to):
mappings are handed out upward from 0x82000000, page by page with no gaps, so a copy that
runs past the end of one buffer lands in the next mapping, just as pool overruns do.
Past the last mapping there is nothing: touching it is a page fault.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from model.hardware.memory import PAGE_SIZE, Allocation, PhysicalMemory

VA_BASE = 0x82000000
VA_LIMIT = 0xFFFFF000


@dataclass(frozen=True, slots=True)
class Mapping:
    """One run of kernel virtual pages and the physical pages behind them."""

    va: int
    length: int  # bytes the owner asked for
    pages: tuple[int, ...]  # physical page frame numbers
    label: str

    @property
    def end(self) -> int:
        return self.va + len(self.pages) * PAGE_SIZE

    def contains(self, va: int) -> bool:
        return self.va <= va < self.end


@dataclass(frozen=True, slots=True)
class Mdl:
    """A memory descriptor list: a virtual buffer and its physical pages."""

    name: str
    va: int
    byte_count: int
    pages: tuple[int, ...]

    def to_json_value(self) -> str:
        return self.name

    def physical_address(self, va: int) -> int:
        """Physical address behind ``va`` (which must lie in this MDL's buffer)."""
        index = (va - (self.va & ~(PAGE_SIZE - 1))) // PAGE_SIZE
        return self.pages[index] * PAGE_SIZE + (va & (PAGE_SIZE - 1))

    def contiguous_run(self, va: int, length: int) -> int:
        """How many bytes from ``va`` (up to ``length``) are physically contiguous."""
        first = (va - (self.va & ~(PAGE_SIZE - 1))) // PAGE_SIZE
        run = PAGE_SIZE - (va & (PAGE_SIZE - 1))
        index = first
        while run < length and index + 1 < len(self.pages) and self.pages[index + 1] == self.pages[index] + 1:
            run += PAGE_SIZE
            index += 1
        return min(run, length)


class PageFault(Exception):
    """A kernel access to an address with no mapping."""

    def __init__(self, va: int) -> None:
        super().__init__(f"no mapping at 0x{va:08X}")
        self.va = va


@dataclass
class KernelAddressSpace:
    """Kernel virtual mappings over physical memory."""

    memory: PhysicalMemory
    next_va: int = VA_BASE
    mappings: list[Mapping] = field(default_factory=list)  # in address order (handed out upward)
    _starts: list[int] = field(default_factory=list)

    def map(self, allocation: Allocation, label: str = "") -> Mapping:
        mapping = Mapping(self.next_va, allocation.length, allocation.pages, label or allocation.label)
        self.next_va = mapping.end
        self.mappings.append(mapping)
        self._starts.append(mapping.va)
        return mapping

    def unmap(self, va: int) -> Mapping | None:
        i = bisect.bisect_left(self._starts, va)
        if i < len(self._starts) and self._starts[i] == va:
            del self._starts[i]
            return self.mappings.pop(i)
        return None

    def find(self, va: int) -> Mapping | None:
        i = bisect.bisect_right(self._starts, va) - 1
        if i >= 0:
            mapping = self.mappings[i]
            if va < mapping.va + len(mapping.pages) * PAGE_SIZE:
                return mapping
        return None

    def to_physical(self, va: int) -> int:
        mapping = self.find(va)
        if mapping is None:
            raise PageFault(va)
        offset = va - mapping.va
        return mapping.pages[offset // PAGE_SIZE] * PAGE_SIZE + offset % PAGE_SIZE

    def pieces(self, va: int, length: int) -> list[tuple[int, int, int]]:
        """(va, physical address, bytes) per physically contiguous piece; raises PageFault at the first hole."""
        out: list[tuple[int, int, int]] = []
        done = 0
        while done < length:
            here = va + done
            n = min(PAGE_SIZE - (here & (PAGE_SIZE - 1)), length - done)
            pa = self.to_physical(here)
            if out and out[-1][1] + out[-1][2] == pa:
                last = out[-1]
                out[-1] = (last[0], last[1], last[2] + n)
            else:
                out.append((here, pa, n))
            done += n
        return out

    def read(self, va: int, length: int) -> np.ndarray:
        parts = [self.memory.read(pa, n) for _, pa, n in self.pieces(va, length)]
        if not parts:
            return np.empty(0, dtype=np.uint8)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def write(self, va: int, data: np.ndarray) -> int:
        """Write as much of ``data`` as is mapped; returns bytes written, raises PageFault after them."""
        done = 0
        length = len(data)
        while done < length:
            here = va + done
            n = min(PAGE_SIZE - (here & (PAGE_SIZE - 1)), length - done)
            try:
                pa = self.to_physical(here)
            except PageFault as fault:
                fault.bytes_done = done  # type: ignore[attr-defined]
                raise
            # Extend over physically contiguous pages so one memory write covers them.
            while done + n < length:
                nxt = here + n
                m = min(PAGE_SIZE, length - done - n)
                mapping = self.find(nxt)
                if mapping is None or self.to_physical(nxt) != pa + n:
                    break
                n += m
            self.memory.write(pa, data[done : done + n])
            done += n
        return done

    def mdl_for(self, name: str, va: int, length: int) -> Mdl:
        """Build an MDL for a mapped buffer (MmBuildMdlForNonPagedPool)."""
        first = va & ~(PAGE_SIZE - 1)
        last = (va + max(length, 1) - 1) & ~(PAGE_SIZE - 1)
        pages = tuple(self.to_physical(p) // PAGE_SIZE for p in range(first, last + 1, PAGE_SIZE))
        return Mdl(name, va, length, pages)
