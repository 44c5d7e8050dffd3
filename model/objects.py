"""Base classes of the objects interface calls are made on.

A model object has a short, stable id (``dma``, ``port``, ``stream``...) shown in the GUI,
used in scenario files and written in the trace. COM objects add IUnknown: reference
counts, QueryInterface with the real IIDs, and destruction when the count reaches zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from model.interfaces.declarations import IIDS, INTERFACES, interface_chain, methods_of
from model.interfaces.types import Method
from model.kernel.types import NTSTATUS

if TYPE_CHECKING:
    from model.system import System


@dataclass
class Out:
    """What an implementation returns when its method has out-parameters."""

    result: Any = None
    out: dict[str, Any] = field(default_factory=dict)


def implements(obj: Any, interface: str) -> bool:
    """Whether ``obj`` (any value a caller passed) is a model object implementing ``interface``."""
    return isinstance(obj, ModelObject) and obj.implements(interface)


def object_name(obj: Any) -> str:
    """How to name ``obj`` in a message: its id, or its type for anything else."""
    return getattr(obj, "object_id", None) or type(obj).__name__


class ModelObject:
    """Anything interface calls can be made on."""

    interfaces: ClassVar[tuple[str, ...]] = ()
    race_checked: ClassVar[bool] = False  # PortCls does no locking inside this object
    kind: ClassVar[str] = "object"
    _method_tables: ClassVar[dict[type, dict[str, Method]]] = {}
    _interface_names: ClassVar[dict[type, frozenset[str]]] = {}

    def __init__(self, system: System, base_id: str) -> None:
        self.system = system
        self.object_id = system.register(self, base_id)
        self.alive = True
        self.accesses: list[tuple[int, int, str, int, bool, tuple[str, ...]]] = []

    @classmethod
    def method_table(cls) -> dict[str, Method]:
        table = ModelObject._method_tables.get(cls)
        if table is None:
            table = ModelObject._method_tables[cls] = methods_of(cls.interfaces)
        return table

    @classmethod
    def interface_names(cls) -> frozenset[str]:
        """Every interface the class implements, with the ones they derive from (IUnknown...)."""
        names = ModelObject._interface_names.get(cls)
        if names is None:
            names = frozenset(i.name for name in cls.interfaces for i in interface_chain(name))
            ModelObject._interface_names[cls] = names
        return names

    def implements(self, interface: str) -> bool:
        return interface in self.interface_names()

    def describe(self) -> dict[str, Any]:
        """State shown in the GUI's object tree (plain values)."""
        return {}

    def children(self) -> list[ModelObject]:
        """Objects shown under this one in the object tree."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.object_id}>"


class ComObject(ModelObject):
    """A COM object: IUnknown with reference counting."""

    def __init__(self, system: System, base_id: str) -> None:
        super().__init__(system, base_id)
        self.refcount = 1

    def _supported_iids(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for name in self.interfaces:
            for interface in interface_chain(name):
                if interface.iid:
                    names[interface.iid] = interface.name
        return names

    # IUnknown -----------------------------------------------------------------------------
    def QueryInterface(self, InterfaceId: str) -> Out:
        wanted = IIDS.get(InterfaceId.upper() if InterfaceId.startswith("{") else InterfaceId, InterfaceId)
        if wanted not in INTERFACES or wanted not in self._supported_iids().values():
            # The WDK samples answer an unknown IID with STATUS_INVALID_PARAMETER.
            return Out(NTSTATUS.STATUS_INVALID_PARAMETER, {"Interface": None})
        self.refcount += 1
        return Out(NTSTATUS.STATUS_SUCCESS, {"Interface": self})

    def AddRef(self) -> int:
        self.refcount += 1
        return self.refcount

    def Release(self) -> int:
        self.refcount -= 1
        if self.refcount == 0:
            self.alive = False
            self.destroy()
        return self.refcount

    def add_reference(self, by: str) -> bool:
        """An AddRef that another object's code makes (an out-parameter handed on, a member added).

        It bypasses the call path, so the lifetime check is made here: a destroyed object
        gets no reference and the use is reported, as the call path reports any other use.
        """
        if not self.alive:
            self.system.violation(
                "use-after-free", f"{by} AddRefs {self.object_id}, which was already destroyed", obj=self
            )
            return False
        self.refcount += 1
        return True

    def destroy(self) -> None:
        """Free what the object owns (called once, when the count reaches zero)."""
