"""dmaviz's model: a deterministic simulation of the PC audio DMA world, with no Qt in it.

``from model import Machine`` gives the default PC (64 MiB, 8237 pair, SB16, HD Audio and
AC'97 controllers) for DOS-style scripting; see docs/scripting.md.
"""

from model.hardware.machine import Machine, MachineConfig
from model.units import MS, NS, US, S, format_ns, parse_duration

__all__ = ["MS", "NS", "US", "Machine", "MachineConfig", "S", "format_ns", "parse_duration"]
