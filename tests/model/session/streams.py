"""A running stream to debug: the topology and session both session test modules start from."""

from __future__ import annotations

from model.session.session import Session
from model.topology import StreamSpec, Topology
from model.trace import to_json_line


def build(device: str = "sb16") -> Topology:
    """An installed ``device`` with one default stream already in KSSTATE_RUN, strict contract checks."""
    topology = Topology(device)
    topology.system.strict = True
    topology.install()
    pin = topology.open_stream(StreamSpec())
    topology.system.call(pin, "SetState", {"State": "KSSTATE_RUN"})
    return topology


def new_session(device: str = "sb16", every: int = 32) -> Session:
    return Session(lambda: build(device), snapshot_every=every)


def lines(session: Session) -> list[str]:
    """The live trace as JSON lines, for byte-for-byte comparison."""
    return [to_json_line(r) for r in session.system.trace.records]
