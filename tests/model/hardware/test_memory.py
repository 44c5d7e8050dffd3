"""Physical memory: the contiguous/scattered allocator, fragmentation, bytes, copy-on-write."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.hardware.memory import (
    PAGE_SIZE,
    Allocation,
    PageOwner,
    PhysicalAddressError,
    PhysicalMemory,
)

SMALL = 2 * 1024 * 1024  # 512 pages: small enough that random requests compete for space
N_PAGES = SMALL // PAGE_SIZE


# --- allocator properties ---------------------------------------------------------------------


def _reference_first_fit(free: np.ndarray, n: int, highest: int, boundary: int, alignment: int) -> int | None:
    """The lowest start page satisfying every constraint, found by brute force."""
    step = max(1, alignment // PAGE_SIZE)
    for start in range(0, len(free) - n + 1, step):
        first, last = start * PAGE_SIZE, (start + n) * PAGE_SIZE - 1
        if last > highest:
            return None
        if boundary and first // boundary != last // boundary:
            continue
        if free[start : start + n].all():
            return start
    return None


_contiguous = st.tuples(
    st.just("contiguous"),
    st.integers(1, 40 * PAGE_SIZE),  # length
    st.integers(PAGE_SIZE - 1, SMALL + PAGE_SIZE),  # highest_address
    st.sampled_from([0, 1 << 14, 1 << 16, 1 << 17, 1 << 20]),  # boundary
    st.sampled_from([PAGE_SIZE, 1 << 13, 1 << 14, 1 << 16]),  # alignment
)
_scattered = st.tuples(st.just("scattered"), st.integers(1, 30 * PAGE_SIZE), st.integers(0, 2**32))
_free = st.tuples(st.just("free"), st.integers(0, 1000))
_ops = st.lists(st.one_of(_contiguous, _scattered, _free), min_size=1, max_size=40)


def _check_no_overlap(mem: PhysicalMemory, live: list[Allocation]) -> None:
    seen: set[int] = set()
    for a in live:
        pages = set(a.pages)
        assert len(pages) == len(a.pages)
        assert not pages & seen
        seen |= pages
        assert all(mem.owner[p] == a.owner for p in a.pages)
        assert len(a.pages) * PAGE_SIZE >= a.length > (len(a.pages) - 1) * PAGE_SIZE
    assert mem.free_page_count() == N_PAGES - len(seen)
    assert sorted(mem.allocations) == sorted(a.pages[0] for a in live)


@settings(max_examples=80, deadline=None)
@given(ops=_ops)
def test_random_allocations_never_overlap_and_honour_every_constraint(ops: list[tuple]) -> None:
    mem = PhysicalMemory(SMALL)
    start_free = mem.free_page_count()
    live: list[Allocation] = []
    for op in ops:
        if op[0] == "contiguous":
            _, length, highest, boundary, alignment = op
            n = -(-length // PAGE_SIZE)
            free = mem.owner == PageOwner.FREE
            expected = _reference_first_fit(free, n, highest, boundary, alignment)
            a = mem.allocate_contiguous(length, highest_address=highest, boundary=boundary, alignment=alignment)
            if expected is None:
                assert a is None
                continue
            assert a is not None
            assert a.base == expected * PAGE_SIZE  # first fit, lowest address first
            assert a.contiguous
            assert a.base + a.length - 1 <= highest
            assert a.base + len(a.pages) * PAGE_SIZE - 1 <= highest
            if boundary:
                assert a.base // boundary == (a.base + a.length - 1) // boundary
            assert a.base % alignment == 0
            live.append(a)
        elif op[0] == "scattered":
            _, length, seed = op
            n = -(-length // PAGE_SIZE)
            enough = mem.free_page_count() >= n
            a = mem.allocate_scattered(length, seed=seed)
            assert (a is not None) == enough
            if a is not None:
                assert a.owner == PageOwner.CLIENT_BUFFER
                live.append(a)
        elif live:
            a = live.pop(op[1] % len(live))
            assert mem.free(a)
            assert not mem.free(a)  # a second free of the same allocation is refused
        _check_no_overlap(mem, live)
    for a in live:
        assert mem.free(a)
    assert mem.free_page_count() == start_free
    assert mem.allocations == {}


def test_allocation_below_16_mib_without_crossing_64_kib() -> None:
    mem = PhysicalMemory()
    mem.allocate_contiguous(0xF000, owner=PageOwner.SYSTEM)  # leaves 0xF000-0xFFFF free
    a = mem.allocate_contiguous(0x2000, highest_address=0xFFFFFF, boundary=0x10000)
    assert a is not None
    assert a.base == 0x10000  # 0xF000 would cross 0x10000
    b = mem.allocate_contiguous(0x1000, highest_address=0xFFFFFF, boundary=0x10000)
    assert b is not None and b.base == 0xF000


def test_requests_that_cannot_be_met() -> None:
    mem = PhysicalMemory(SMALL)
    assert mem.allocate_contiguous(0x20000, boundary=0x10000) is None  # larger than the boundary
    assert mem.allocate_contiguous(2 * PAGE_SIZE, highest_address=PAGE_SIZE) is None
    assert mem.allocate_contiguous(0) is None
    assert mem.allocate_scattered(0, seed=1) is None
    assert mem.allocate_scattered(SMALL + 1, seed=1) is None
    assert mem.allocate_contiguous(SMALL) is not None
    assert mem.free_page_count() == 0


def test_lowest_address_and_allocation_at() -> None:
    mem = PhysicalMemory(SMALL)
    a = mem.allocate_contiguous(3 * PAGE_SIZE, lowest_address=0x10001, label="x")
    assert a is not None and a.base == 0x11000
    assert mem.allocation_at(0x12FFF) == a
    assert mem.allocation_at(0x14000) is None


def test_scattered_allocation_is_deterministic_for_a_seed() -> None:
    pages = []
    for _ in range(2):
        mem = PhysicalMemory(SMALL)
        a = mem.allocate_scattered(20 * PAGE_SIZE, seed=1234, highest_address=0xFFFFF)
        assert a is not None
        assert all(p * PAGE_SIZE + PAGE_SIZE - 1 <= 0xFFFFF for p in a.pages)
        pages.append(a.pages)
    assert pages[0] == pages[1]
    other = PhysicalMemory(SMALL).allocate_scattered(20 * PAGE_SIZE, seed=1235)
    assert other is not None and other.pages != pages[0]


# --- fragmentation -------------------------------------------------------------------------------


def test_fragmentation_is_deterministic_and_defeats_large_contiguous_requests() -> None:
    first, second = PhysicalMemory(), PhysicalMemory()
    taken = first.fragment(0.2, seed=7, max_free_run_pages=8)
    assert second.fragment(0.2, seed=7, max_free_run_pages=8) == taken
    assert np.array_equal(first.owner, second.owner)
    assert not np.array_equal(first.owner, _fragmented(seed=8).owner)
    assert 0 < taken < first.n_pages
    assert first.largest_free_run() <= 8
    assert first.allocate_contiguous(0x10000, highest_address=0xFFFFFF) is None  # 16 pages
    small = first.allocate_contiguous(2 * PAGE_SIZE, highest_address=0xFFFFFF, boundary=0x10000)
    assert small is not None
    assert all(first.owner[p] == PageOwner.COMMON_BUFFER for p in small.pages)


def _fragmented(seed: int) -> PhysicalMemory:
    mem = PhysicalMemory()
    mem.fragment(0.2, seed=seed, max_free_run_pages=8)
    return mem


def test_fragment_rejects_a_bad_fraction() -> None:
    with pytest.raises(ValueError, match="fraction"):
        PhysicalMemory(SMALL).fragment(1.5, seed=1)


# --- bytes ------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    writes=st.lists(
        st.tuples(st.integers(0, 8 * PAGE_SIZE), st.binary(min_size=0, max_size=3 * PAGE_SIZE)),
        min_size=1,
        max_size=12,
    )
)
def test_write_read_round_trip_across_page_boundaries(writes: list[tuple[int, bytes]]) -> None:
    size = 12 * PAGE_SIZE
    mem = PhysicalMemory(size)
    reference = bytearray(size)
    for address, data in writes:
        mem.write(address, data)
        reference[address : address + len(data)] = data
        assert mem.read(address, len(data)).tobytes() == data
    assert mem.read(0, size).tobytes() == bytes(reference)


def test_typed_arrays_are_written_as_their_bytes() -> None:
    mem = PhysicalMemory(SMALL)
    samples = np.array([0x1234, -2, 0x7FFF], dtype="<i2")
    mem.write(PAGE_SIZE - 3, samples)  # across a page boundary too
    assert mem.read(PAGE_SIZE - 3, 6).tobytes() == samples.tobytes()
    mem.write_u32(0x100, 0xDEADBEEF)
    mem.write_u64(0x200, 0x0123456789ABCDEF)
    assert (mem.read_u32(0x100), mem.read_u64(0x200)) == (0xDEADBEEF, 0x0123456789ABCDEF)


def test_out_of_range_access_is_refused() -> None:
    mem = PhysicalMemory(SMALL)
    with pytest.raises(PhysicalAddressError, match="outside memory"):
        mem.read(SMALL - 1, 2)
    with pytest.raises(PhysicalAddressError):
        mem.write(-1, b"x")
    assert len(mem.read(SMALL, 0)) == 0  # an empty read at the very end is fine


def test_bad_memory_size_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple"):
        PhysicalMemory(1000)


# --- copy-on-write snapshots ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(st.tuples(st.integers(0, 6 * PAGE_SIZE), st.binary(max_size=PAGE_SIZE + 10)), max_size=6),
    after=st.lists(
        st.tuples(st.integers(0, 6 * PAGE_SIZE), st.binary(min_size=1, max_size=PAGE_SIZE + 10)),
        min_size=1,
        max_size=6,
    ),
)
def test_checkpoint_and_rollback_restore_bytes_exactly(
    before: list[tuple[int, bytes]], after: list[tuple[int, bytes]]
) -> None:
    mem = PhysicalMemory(8 * PAGE_SIZE)
    for address, data in before:
        mem.write(address, data)
    a = mem.allocate_contiguous(PAGE_SIZE, label="kept")
    saved_bytes = mem.read(0, mem.size)
    saved_digest = mem.digest_bytes()
    state = mem.checkpoint()
    for address, data in after:
        mem.write(address, data)
    mem.allocate_contiguous(2 * PAGE_SIZE, label="dropped")
    mem.mark_damaged(0, 10)
    mem.rollback(state)
    assert np.array_equal(mem.read(0, mem.size), saved_bytes)
    assert mem.digest_bytes() == saved_digest
    assert list(mem.allocations.values()) == [a]
    assert not mem.damaged.any()
    # The checkpoint is still intact after being restored and written again.
    mem.write(0, b"\xff" * 100)
    mem.rollback(state)
    assert np.array_equal(mem.read(0, mem.size), saved_bytes)


def test_untouched_pages_share_storage_until_written() -> None:
    mem = PhysicalMemory(SMALL)
    mem.write(0, b"abc")
    state = mem.checkpoint()
    page0 = mem.page_view(0)
    mem.write(1, b"Z")
    assert page0.tobytes()[:3] == b"abc"  # the checkpoint's page was copied, not changed
    assert mem.read(0, 3).tobytes() == b"aZc"
    mem.rollback(state)
    assert mem.read(0, 3).tobytes() == b"abc"
    with pytest.raises(ValueError):
        mem.page_view(0)[0] = 1  # views are read-only
