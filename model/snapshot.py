"""Snapshots of a whole model graph, cheap enough to take every few hundred events.

The model is a graph of plain Python objects. A snapshot pickles it, except for the
*persistent* objects (physical memory, the trace, audio sinks): those are large or
append-only, so they keep their identity across restores and take their own
checkpoint (copy-on-write page table, record count, sample count). A class opts in by
setting ``snapshot_persistent = True`` and providing ``checkpoint()``, ``rollback(state)``
and ``digest_bytes()``; such objects must hold no references back into the graph.

Restoring replaces the root object's attributes in place, so whoever holds the root
keeps a valid reference; anything else must be looked up again from the root.
"""

from __future__ import annotations

import collections
import enum
import hashlib
import io
import pickle
import sys
import types
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A frozen model state: pickled graph plus the persistent objects' checkpoints."""

    graph: bytes
    persistent: tuple[tuple[Any, Any], ...]  # (object, its checkpoint)

    @property
    def size_bytes(self) -> int:
        return len(self.graph)


def _is_persistent(obj: Any) -> bool:
    return getattr(type(obj), "snapshot_persistent", False) is True


_ROOT = "root"  # persistent id of the root object itself (the others are ints)


class _Pickler(pickle.Pickler):
    def __init__(self, buffer: io.BytesIO, root: Any) -> None:
        super().__init__(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.root = root
        self.found: list[Any] = []
        self._index: dict[int, int] = {}

    def persistent_id(self, obj: Any) -> Any:
        # An object of the graph that refers back to the root (a service routine holding the
        # machine) must get the root itself on restore, not a copy made from its half-loaded dict.
        if obj is self.root:
            return _ROOT
        # Traversal order, not id(), so equal states pickle to equal bytes.
        if _is_persistent(obj):
            index = self._index.get(id(obj))
            if index is None:
                index = self._index[id(obj)] = len(self.found)
                self.found.append(obj)
            return index
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, objects: list[Any], root: Any) -> None:
        super().__init__(io.BytesIO(data))
        self.objects = objects
        self.root = root

    def persistent_load(self, pid: Any) -> Any:
        return self.root if pid == _ROOT else self.objects[pid]


def _dump(root: Any) -> tuple[bytes, list[Any]]:
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, root)
    pickler.dump(root.__dict__)
    return buffer.getvalue(), pickler.found


def take(root: Any) -> Snapshot:
    """Snapshot everything reachable from ``root`` (an object with a ``__dict__``)."""
    graph, found = _dump(root)
    persistent = tuple((obj, obj.checkpoint()) for obj in found)
    return Snapshot(graph, persistent)


def restore(root: Any, snapshot: Snapshot) -> None:
    """Put ``root`` back into the state of ``snapshot``, in place."""
    objects = []
    for obj, state in snapshot.persistent:
        obj.rollback(state)
        objects.append(obj)
    state_dict = _Unpickler(snapshot.graph, objects, root).load()
    root.__dict__.clear()
    # Interned keys, as pickle gives every other object's attributes.
    root.__dict__.update({sys.intern(k): v for k, v in state_dict.items()})


def digest(root: Any) -> str:
    """SHA-256 of the whole state reachable from ``root``.

    A canonical walk rather than pickle bytes: pickle's output depends on which equal
    strings happen to be the same object, which a restore legitimately changes.
    """
    h = hashlib.sha256()
    _Canon(h).walk(root.__dict__)
    return h.hexdigest()


class _Canon:
    def __init__(self, h: Any) -> None:
        self.h = h
        self.seen: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps walked objects alive so ids stay unique

    def put(self, tag: str, payload: str = "") -> None:
        self.h.update(f"{tag}:{payload};".encode())

    def walk(self, obj: Any) -> None:
        if obj is None or isinstance(obj, bool | int | float | str | bytes):
            self.put(type(obj).__name__, repr(obj))
            return
        if isinstance(obj, enum.Enum):
            self.put("enum", f"{type(obj).__qualname__}.{obj.name}")
            return
        if isinstance(obj, type | types.FunctionType | types.BuiltinFunctionType):
            self.put("code", f"{getattr(obj, '__module__', '')}.{obj.__qualname__}")
            return
        ref = self.seen.get(id(obj))
        if ref is not None:
            self.put("ref", str(ref))
            return
        self.seen[id(obj)] = len(self.seen)
        self.keep.append(obj)
        if _is_persistent(obj):
            self.put("persistent", type(obj).__qualname__)
            self.h.update(obj.digest_bytes())
        elif isinstance(obj, np.ndarray):
            self.put("ndarray", f"{obj.dtype}{obj.shape}")
            self.h.update(np.ascontiguousarray(obj).tobytes())
        elif isinstance(obj, dict):
            self.put("dict", str(len(obj)))
            for key, value in obj.items():
                self.walk(key)
                self.walk(value)
        elif isinstance(obj, list | tuple | set | frozenset | collections.deque):
            items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
            self.put(type(obj).__name__, str(len(obj)))
            for item in items:
                self.walk(item)
        elif isinstance(obj, types.MethodType):
            self.put("method", obj.__func__.__qualname__)
            self.walk(obj.__self__)
        elif hasattr(obj, "digest_state"):
            self.put("object", type(obj).__qualname__)
            self.walk(obj.digest_state())
        else:
            self.put("object", type(obj).__qualname__)
            state = (
                obj.__dict__
                if hasattr(obj, "__dict__")
                else {name: getattr(obj, name) for name in _slot_names(type(obj)) if hasattr(obj, name)}
            )
            self.walk(state)


def _slot_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return names
