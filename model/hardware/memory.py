"""Physical memory: 4 KiB pages of bytes, who owns each page, and contiguous allocation.

Bytes live in one numpy array per page, copy-on-write: a snapshot copies only the list of
page references, and the first write to a page after a snapshot copies that page. Pages
never written share one read-only zero page, so 64 MiB costs nothing until it is used.

The allocator answers the requests the HAL makes of the memory manager
(MmAllocateContiguousMemorySpecifyCache): a run of free pages below a highest acceptable
address, aligned, and not crossing a boundary multiple. Fragmentation (seeded) leaves the
machine in the state of a long-running system.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

PAGE_SIZE = 4096
PAGE_SHIFT = 12
ISA_LIMIT = 0x1000000  # 16 MiB: the top of what ISA system DMA can address


class PageOwner(enum.IntEnum):
    """Who a physical page belongs to (drawn in the memory map)."""

    FREE = 0
    SYSTEM = 1  # other system use: kernel, other drivers, long-lived allocations
    COMMON_BUFFER = 2
    CLIENT_BUFFER = 3
    MAP_REGISTER_BUFFER = 4  # bounce buffers behind map registers


@dataclass(frozen=True, slots=True)
class Allocation:
    """One allocated physical range."""

    base: int
    length: int  # bytes requested
    pages: tuple[int, ...]  # page frame numbers, in order
    owner: PageOwner
    label: str

    @property
    def contiguous(self) -> bool:
        return all(b == a + 1 for a, b in zip(self.pages, self.pages[1:], strict=False))


class PhysicalAddressError(Exception):
    """Access outside physical memory."""


_FULL_TABLE_EVERY = 16


@dataclass(frozen=True, slots=True)
class PageTable:
    """A checkpoint of the page arrays: a full table, or the pages changed since ``base``."""

    base: PageTable | None
    full: tuple[np.ndarray, ...] | None
    changed: dict[int, np.ndarray]
    depth: int

    def table(self) -> list[np.ndarray]:
        chain: list[PageTable] = []
        checkpoint = self
        while checkpoint.full is None:
            chain.append(checkpoint)
            assert checkpoint.base is not None
            checkpoint = checkpoint.base
        table = list(checkpoint.full)
        for step in reversed(chain):
            for page, array in step.changed.items():
                table[page] = array
        return table


_ZERO_PAGE = np.zeros(PAGE_SIZE, dtype=np.uint8)
_ZERO_PAGE.flags.writeable = False


class PhysicalMemory:
    """Bytes, page ownership and the contiguous allocator."""

    snapshot_persistent: ClassVar[bool] = True

    def __init__(self, size: int = 64 * 1024 * 1024) -> None:
        if size <= 0 or size % PAGE_SIZE:
            raise ValueError(f"memory size must be a positive multiple of {PAGE_SIZE}, got {size}")
        self.size = size
        self.n_pages = size // PAGE_SIZE
        self._pages: list[np.ndarray] = [_ZERO_PAGE] * self.n_pages
        self._private = np.zeros(self.n_pages, dtype=bool)  # page array is ours to write
        self.owner = np.zeros(self.n_pages, dtype=np.uint8)
        self.damaged = np.zeros(self.n_pages, dtype=bool)
        self.allocations: dict[int, Allocation] = {}  # keyed by first page frame number
        self.version = 0  # bumps on every change, so views redraw only when needed
        self._last_checkpoint: PageTable | None = None

    # --- bytes --------------------------------------------------------------------
    def _check(self, address: int, length: int) -> None:
        if address < 0 or length < 0 or address + length > self.size:
            raise PhysicalAddressError(
                f"physical range 0x{address:X}+0x{length:X} is outside memory (0x{self.size:X} bytes)"
            )

    def read(self, address: int, length: int) -> np.ndarray:
        """Copy of ``length`` bytes from ``address`` as a uint8 array."""
        self._check(address, length)
        if length == 0:
            return np.empty(0, dtype=np.uint8)  # also at address == size, where there is no page
        page, offset = divmod(address, PAGE_SIZE)
        if offset + length <= PAGE_SIZE:
            return self._pages[page][offset : offset + length].copy()
        out = np.empty(length, dtype=np.uint8)
        done = 0
        while done < length:
            n = min(PAGE_SIZE - offset, length - done)
            out[done : done + n] = self._pages[page][offset : offset + n]
            done += n
            page += 1
            offset = 0
        return out

    def read_into(self, address: int, out: np.ndarray) -> None:
        """Copy ``len(out)`` bytes from ``address`` into ``out`` (a uint8 array), with no copy between."""
        length = len(out)
        self._check(address, length)
        page, offset = address >> PAGE_SHIFT, address & (PAGE_SIZE - 1)
        dest = memoryview(out)
        if offset + length <= PAGE_SIZE:
            dest[:] = memoryview(self._pages[page])[offset : offset + length]
            return
        done = 0
        pages = self._pages
        while done < length:
            n = min(PAGE_SIZE - offset, length - done)
            dest[done : done + n] = memoryview(pages[page])[offset : offset + n]
            done += n
            page += 1
            offset = 0

    def write(self, address: int, data: np.ndarray | bytes | bytearray) -> None:
        """Write bytes at ``address`` (copy-on-write per page)."""
        # Any array is written as its raw bytes (an int16 array of n samples is 2n bytes),
        # never cast element by element to uint8.
        if isinstance(data, np.ndarray):
            if data.dtype != np.uint8 or data.ndim != 1 or not data.flags.c_contiguous:
                data = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
            buf = memoryview(data)
        else:
            buf = memoryview(data).cast("B")
        length = len(buf)
        self._check(address, length)
        page, offset = address >> PAGE_SHIFT, address & (PAGE_SIZE - 1)
        done = 0
        pages, private = self._pages, self._private
        # Pages are copied through memoryviews: for the few KiB a call moves, numpy's slicing
        # machinery costs more than the copy itself.
        while done < length:
            n = min(PAGE_SIZE - offset, length - done)
            if not private[page]:
                pages[page] = pages[page].copy()
                private[page] = True
            memoryview(pages[page])[offset : offset + n] = buf[done : done + n]
            done += n
            page += 1
            offset = 0
        self.version += 1

    def fill(self, address: int, length: int, value: int) -> None:
        self.write(address, np.full(length, value & 0xFF, dtype=np.uint8))

    def read_u32(self, address: int) -> int:
        return int.from_bytes(self.read(address, 4).tobytes(), "little")

    def read_u64(self, address: int) -> int:
        return int.from_bytes(self.read(address, 8).tobytes(), "little")

    def write_u32(self, address: int, value: int) -> None:
        self.write(address, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def write_u64(self, address: int, value: int) -> None:
        self.write(address, (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little"))

    def page_view(self, page: int) -> np.ndarray:
        """Read-only view of one page (for views; never write through it)."""
        view = self._pages[page].view()
        view.flags.writeable = False
        return view

    # --- ownership and allocation -----------------------------------------------------
    def free_page_count(self) -> int:
        return int(np.count_nonzero(self.owner == PageOwner.FREE))

    def largest_free_run(self, highest_address: int | None = None) -> int:
        """Length in pages of the longest run of free pages (below ``highest_address``)."""
        limit = self.n_pages if highest_address is None else min(self.n_pages, (highest_address + 1) // PAGE_SIZE)
        free = np.concatenate(([False], self.owner[:limit] == PageOwner.FREE, [False]))
        edges = np.flatnonzero(np.diff(free.astype(np.int8)))
        if len(edges) == 0:
            return 0
        return int((edges[1::2] - edges[0::2]).max())

    def allocate_contiguous(
        self,
        length: int,
        *,
        highest_address: int = 0xFFFFFFFF,
        boundary: int = 0,
        alignment: int = PAGE_SIZE,
        owner: PageOwner = PageOwner.COMMON_BUFFER,
        label: str = "",
        lowest_address: int = 0,
    ) -> Allocation | None:
        """First fit, lowest address first, like the memory manager's contiguous allocator.

        ``highest_address`` is the highest byte address the range may touch; ``boundary``
        (a power of two, or 0) is a multiple the range must not cross. Returns None when
        no such run of free pages exists.
        """
        if length <= 0:
            return None
        n = -(-length // PAGE_SIZE)
        span = n * PAGE_SIZE
        if boundary and span > boundary:
            return None
        step_pages = max(1, alignment // PAGE_SIZE)
        last_page = min(self.n_pages, (highest_address + 1) // PAGE_SIZE) - n
        first_page = -(-lowest_address // PAGE_SIZE)
        if last_page < first_page:
            return None
        free = (self.owner == PageOwner.FREE).astype(np.int32)
        # run_ok[p] is True when pages p .. p+n-1 are all free.
        csum = np.concatenate(([0], np.cumsum(free)))
        starts = np.arange(first_page, last_page + 1)
        run_ok = (csum[starts + n] - csum[starts]) == n
        if step_pages > 1:
            run_ok &= (starts % step_pages) == 0
        if boundary:
            base = starts * PAGE_SIZE
            run_ok &= (base // boundary) == ((base + span - 1) // boundary)
        hits = np.flatnonzero(run_ok)
        if len(hits) == 0:
            return None
        start = int(starts[hits[0]])
        pages = tuple(range(start, start + n))
        return self._take(pages, length, owner, label)

    def allocate_scattered(
        self,
        length: int,
        *,
        seed: int,
        owner: PageOwner = PageOwner.CLIENT_BUFFER,
        label: str = "",
        highest_address: int | None = None,
    ) -> Allocation | None:
        """Whole pages taken from anywhere (seeded), as pageable memory is locked for I/O."""
        if length <= 0:
            return None
        n = -(-length // PAGE_SIZE)
        limit = self.n_pages if highest_address is None else min(self.n_pages, (highest_address + 1) // PAGE_SIZE)
        free = np.flatnonzero(self.owner[:limit] == PageOwner.FREE)
        if len(free) < n:
            return None
        rng = np.random.default_rng(seed)
        chosen = rng.choice(free, size=n, replace=False)
        return self._take(tuple(int(p) for p in chosen), length, owner, label)

    def _take(self, pages: tuple[int, ...], length: int, owner: PageOwner, label: str) -> Allocation:
        allocation = Allocation(pages[0] * PAGE_SIZE, length, pages, owner, label)
        idx = np.fromiter(pages, dtype=np.int64)
        self.owner[idx] = owner
        self.damaged[idx] = False
        self.allocations[pages[0]] = allocation
        self.version += 1
        return allocation

    def free(self, allocation: Allocation) -> bool:
        """Give the pages back. Returns False if this allocation is not live."""
        live = self.allocations.get(allocation.pages[0])
        if live != allocation:
            return False
        del self.allocations[allocation.pages[0]]
        idx = np.fromiter(allocation.pages, dtype=np.int64)
        self.owner[idx] = PageOwner.FREE
        self.version += 1
        return True

    def allocation_at(self, address: int) -> Allocation | None:
        """The live allocation that contains physical ``address``, if any."""
        page = address // PAGE_SIZE
        for allocation in self.allocations.values():
            if page in allocation.pages:
                return allocation
        return None

    def fragment(self, fraction: float, seed: int, *, max_free_run_pages: int | None = None) -> int:
        """Occupy free pages at random (seeded) as a long-running system would.

        ``fraction`` of the free pages become SYSTEM pages; with ``max_free_run_pages``
        any longer free run is then broken as well. Returns the number of pages taken.
        """
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fragmentation fraction must be in [0, 1], got {fraction}")
        rng = np.random.default_rng(seed)
        free = np.flatnonzero(self.owner == PageOwner.FREE)
        take = rng.random(len(free)) < fraction
        chosen = free[take]
        self.owner[chosen] = PageOwner.SYSTEM
        taken = len(chosen)
        if max_free_run_pages is not None and max_free_run_pages >= 0:
            taken += self._break_runs(max_free_run_pages, rng)
        self.version += 1
        return taken

    def _break_runs(self, max_run: int, rng: np.random.Generator) -> int:
        taken = 0
        free = np.concatenate(([False], self.owner == PageOwner.FREE, [False]))
        edges = np.flatnonzero(np.diff(free.astype(np.int8)))
        for start, end in zip(edges[0::2], edges[1::2], strict=True):
            page = int(start)
            while end - page > max_run:
                # Keep a run of between max_run/2 and max_run free pages, then a used page.
                keep = int(rng.integers(max(1, max_run // 2), max_run + 1)) if max_run else 0
                used = page + keep
                self.owner[used] = PageOwner.SYSTEM
                taken += 1
                page = used + 1
        return taken

    def reserve(self, address: int, length: int, label: str) -> Allocation | None:
        """Take a fixed range for the system (BIOS area, kernel image): no allocator will hand it out."""
        first = address // PAGE_SIZE
        pages = tuple(range(first, first + -(-length // PAGE_SIZE)))
        if any(self.owner[p] != PageOwner.FREE for p in pages):
            return None
        return self._take(pages, length, PageOwner.SYSTEM, label)

    def mark_damaged(self, address: int, length: int) -> list[int]:
        """Flag the pages of a range as damaged by a bad write. Returns the page numbers."""
        first = max(0, address // PAGE_SIZE)
        last = min(self.n_pages - 1, (address + max(length, 1) - 1) // PAGE_SIZE)
        self.damaged[first : last + 1] = True
        self.version += 1
        return list(range(first, last + 1))

    # --- snapshot protocol --------------------------------------------------------------
    def checkpoint(self) -> Any:
        """Remember the pages written since the last checkpoint (a full page table every 16th time)."""
        base = self._last_checkpoint
        changed = {int(p): self._pages[p] for p in np.flatnonzero(self._private)}
        if base is None or base.depth + 1 >= _FULL_TABLE_EVERY:
            pages = PageTable(None, tuple(self._pages), {}, 0)
        else:
            pages = PageTable(base, None, changed, base.depth + 1)
        self._last_checkpoint = pages
        self._private[:] = False  # from now on a write copies the page, so these arrays stay as they are
        return (pages, self.owner.copy(), self.damaged.copy(), dict(self.allocations), self.version)

    def rollback(self, state: Any) -> None:
        pages, owner, damaged, allocations, version = state
        self._pages = pages.table()
        self._last_checkpoint = pages
        self._private[:] = False
        self.owner[:] = owner
        self.damaged[:] = damaged
        self.allocations = dict(allocations)
        self.version = version + 1  # views must redraw

    def digest_bytes(self) -> bytes:
        h = hashlib.sha256()
        for number, page in enumerate(self._pages):
            if page is not _ZERO_PAGE and page.any():
                h.update(number.to_bytes(4, "little"))
                h.update(page.tobytes())
        h.update(self.owner.tobytes())
        h.update(self.damaged.tobytes())
        return h.digest()
