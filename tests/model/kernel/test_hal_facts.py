"""hardware.md section 5, facts 20-29: what the HAL's adapter objects do to the 8237.

Each test names the fact ("hardware.md fact N"). Where a fact describes ReactOS's HAL,
dmaviz follows it except for the 16-bit address defect (fact 23 is the 8-bit case).
"""

from __future__ import annotations

from model.hardware.memory import ISA_LIMIT
from model.kernel.types import NTSTATUS
from model.topology import Topology
from model.trace import RegisterRecord


def system():
    topology = Topology("sb16")
    topology.system.strict = True
    return topology.system


def adapter(sys_, channel: int, width: str, maximum: int = 0x4000, **extra):
    table = {
        "Version": 1,
        "DmaChannel": channel,
        "DmaWidth": width,
        "AutoInitialize": True,
        "MaximumLength": maximum,
        **extra,
    }
    return sys_.call("io", "IoGetDmaAdapter", {"DeviceDescription": table})


def set_count(sys_, channel: int, count: int) -> None:
    registers = sys_.machine.dma.channel(channel)
    registers.current_count = registers.base_count = count


def test_fact_20_read_dma_counter_8_bit() -> None:
    """hardware.md fact 20: 8-bit adapter, count 0x0FFF -> 0x1000; count 0xFFFF -> 0."""
    s = system()
    a = adapter(s, 1, "Width8Bits").value
    set_count(s, 1, 0x0FFF)
    assert s.call(a, "ReadDmaCounter").value == 0x1000
    set_count(s, 1, 0xFFFF)
    assert s.call(a, "ReadDmaCounter").value == 0


def test_fact_21_read_dma_counter_16_bit() -> None:
    """hardware.md fact 21: 16-bit adapter, count 0x07FF -> 0x1000 bytes."""
    s = system()
    a = adapter(s, 5, "Width16Bits").value
    set_count(s, 5, 0x07FF)
    assert s.call(a, "ReadDmaCounter").value == 0x1000


def test_fact_22_read_dma_counter_reads_twice_and_never_masks() -> None:
    """hardware.md fact 22: clear the flip-flop, read the count port at least twice until the high byte repeats."""
    s = system()
    a = adapter(s, 1, "Width8Bits").value
    set_count(s, 1, 0x0123)
    first = len(s.trace)
    s.call(a, "ReadDmaCounter")
    registers = [(r.address, r.access) for r in s.trace.since(first) if isinstance(r, RegisterRecord)]
    assert registers[:3] == [(0x0C, "write"), (0x03, "read"), (0x03, "read")]
    assert sum(1 for port, access in registers if port == 0x03 and access == "read") >= 4  # two low+high pairs
    assert all(port not in (0x0A, 0x0F, 0x0E) for port, _ in registers)  # no mask register touched


def test_fact_23_map_transfer_programs_the_8237_in_order() -> None:
    """hardware.md fact 23: IoMapTransfer's writes for 0x1000 bytes at 0x00123400 on channel 1, auto-init playback."""
    s = system()
    a = adapter(s, 1, "Width8Bits").value
    from model.kernel.virtual_memory import Mdl

    mdl = Mdl("test", 0x90000400, 0x1000, (0x123, 0x124))
    first = len(s.trace)
    result = s.call(
        a,
        "MapTransfer",
        {"Mdl": mdl, "MapRegisterBase": 0, "CurrentVa": 0x90000400, "Length": 0x1000, "WriteToDevice": True},
    )
    writes = [
        (r.address, r.value) for r in s.trace.since(first) if isinstance(r, RegisterRecord) and r.access == "write"
    ]
    assert writes == [
        (0x0C, 0),
        (0x0B, 0x59),
        (0x02, 0x00),
        (0x02, 0x34),
        (0x83, 0x12),
        (0x03, 0xFF),
        (0x03, 0x0F),
        (0x0A, 0x01),
    ]
    assert result.value == 0x123400 and result.out["Length"] == 0x1000


def test_16_bit_map_transfer_uses_the_correct_word_address() -> None:
    """hardware.md §4.3: for a buffer at 0x234000 on channel 5 the address register is (phys >> 1) & 0xFFFF = 0xA000."""
    s = system()
    a = adapter(s, 5, "Width16Bits").value
    from model.kernel.virtual_memory import Mdl

    mdl = Mdl("test", 0x90000000, 0x2000, (0x234, 0x235))
    s.call(
        a,
        "MapTransfer",
        {"Mdl": mdl, "MapRegisterBase": 0, "CurrentVa": 0x90000000, "Length": 0x2000, "WriteToDevice": True},
    )
    registers = s.machine.dma.channel(5)
    assert registers.base_address == 0xA000 and registers.page == 0x23
    assert registers.physical_address() == 0x234000  # ReactOS's ((phys & 0xFFFF) >> 1) would give 0x224000
    assert registers.base_count == 0x0FFF


def test_fact_24_flush_masks_the_channel() -> None:
    """hardware.md fact 24: FlushAdapterBuffers on a slave adapter writes channel|4 to the single-mask port."""
    s = system()
    a = adapter(s, 1, "Width8Bits").value
    first = len(s.trace)
    s.call(
        a,
        "FlushAdapterBuffers",
        {"Mdl": None, "MapRegisterBase": 0, "CurrentVa": 0, "Length": 0, "WriteToDevice": True},
    )
    writes = [(r.address, r.value) for r in s.trace.since(first) if isinstance(r, RegisterRecord)]
    assert writes == [(0x0A, 0x05)]
    assert s.machine.dma.channel(1).masked


def test_fact_25_slave_common_buffers_stay_below_16_mib_and_inside_64_kib() -> None:
    """hardware.md fact 25: a slave adapter's common buffer is below 16 MiB and never crosses 64 KiB."""
    s = system()
    memory = s.machine.memory
    memory.fragment(0.5, seed=3)
    for channel, width in ((1, "Width8Bits"), (5, "Width16Bits")):
        a = adapter(s, channel, width, maximum=0x10000).value
        for length in (0x1000, 0x3000, 0x8000, 0xF000):
            result = s.call(a, "AllocateCommonBuffer", {"Length": length, "CacheEnabled": False})
            if not result.value:
                continue
            start = result.out["LogicalAddress"]
            assert start + length - 1 < ISA_LIMIT
            assert start // 0x10000 == (start + length - 1) // 0x10000


def test_fact_26_no_adapter_for_channel_4_or_a_wrong_width() -> None:
    """hardware.md fact 26: NULL for DmaChannel 4, and for channel 1 with Width16Bits on an ISA machine."""
    s = system()
    assert adapter(s, 4, "Width16Bits").value is None
    assert adapter(s, 1, "Width16Bits").value is None
    assert adapter(s, 5, "Width8Bits").value is None
    assert adapter(s, 1, "Width8Bits").value is not None


def test_fact_27_map_register_counts() -> None:
    """hardware.md fact 27: MaximumLength 0x4000 gives 5 map registers, 0x20000 gives the cap of 16."""
    s = system()
    assert adapter(s, 1, "Width8Bits", 0x4000).out["NumberOfMapRegisters"] == 5
    assert adapter(s, 3, "Width8Bits", 0x20000).out["NumberOfMapRegisters"] == 16


def test_fact_28_read_dma_counter_returns_bytes_remaining() -> None:
    """hardware.md fact 28: ReadDmaCounter returns the bytes remaining in the current subordinate transfer."""
    s = system()
    a = adapter(s, 1, "Width8Bits").value
    set_count(s, 1, 0x01FF)  # 0x200 transfers left
    assert s.call(a, "ReadDmaCounter").value == 0x200


def test_fact_29_position_zero_when_the_counter_reads_zero() -> None:
    """hardware.md fact 29: the sb16 sample reports position 0 when ReadCounter returns 0."""
    topology = Topology("sb16")
    topology.system.strict = True
    topology.install()
    from model.topology import StreamSpec

    topology.open_stream(StreamSpec())
    s = topology.system
    assert s.call("dma", "ReadCounter").value == 0  # never started
    assert s.call("stream", "GetPosition").out["Position"] == 0
    assert s.call("stream", "GetPosition").status == NTSTATUS.STATUS_SUCCESS


def test_fact_29_position_is_transfer_count_minus_counter_while_running() -> None:
    """hardware.md fact 29, the other half: while the DMA runs, the sb16 sample's position is
    TransferCount - ReadCounter (the bytes of the mapped transfer already moved)."""
    from model.topology import StreamSpec
    from model.units import US

    topology = Topology("sb16")
    topology.system.strict = True
    topology.install()
    pin = topology.open_stream(StreamSpec())
    s = topology.system
    s.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    positions = set()
    for _ in range(40):
        s.run_for(1_377 * US)  # odd steps, so the samples fall all over the buffer
        counter = s.call("dma", "ReadCounter").value
        total = s.call("dma", "TransferCount").value
        position = s.call("stream", "GetPosition").out["Position"]
        assert counter != 0 and position == total - counter
        positions.add(position)
    assert len(positions) == 40


def test_memory_above_16_mib_bounces_through_map_register_buffers() -> None:
    """hardware.md §4.3 step 2: a slave transfer of memory above 16 MiB uses map-register buffers below it."""
    import numpy as np

    from model.hardware.memory import PageOwner

    s = system()
    a = adapter(s, 1, "Width8Bits").value
    memory = s.machine.memory
    high = memory.allocate_contiguous(0x1000, lowest_address=0x2000000, owner=PageOwner.CLIENT_BUFFER, label="high")
    mapping = s.kernel.address_space.map(high)
    mdl = s.kernel.address_space.mdl_for("high.mdl", mapping.va, 0x1000)
    s.kernel.address_space.write(mapping.va, np.arange(0x1000, dtype=np.uint32).astype(np.uint8))
    result = s.call(
        a,
        "MapTransfer",
        {"Mdl": mdl, "MapRegisterBase": 0, "CurrentVa": mapping.va, "Length": 0x1000, "WriteToDevice": True},
    )
    bounce = result.value
    assert bounce < ISA_LIMIT and memory.owner[bounce // 0x1000] == PageOwner.MAP_REGISTER_BUFFER
    assert s.machine.dma.channel(1).physical_address() == bounce
    assert np.array_equal(memory.read(bounce, 0x1000), memory.read(high.base, 0x1000))
