"""Pydantic models of every method's arguments, generated from the interface declarations.

``ARG_MODELS[name]`` validates the ``args`` table of an action calling ``name``. Where
several interfaces declare a method of the same name (Init, SetState, NewStream), the
model accepts the parameters of any of them; the object the action names decides which
declaration applies, and that is checked again when the world is built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, create_model, model_validator
from pydantic_core import PydanticCustomError

from model.interfaces.declarations import all_methods
from model.interfaces.types import Kind, Method, Param
from model.kernel.types import ENUM_TYPES
from model.scenario.errors import found, suggest

METHODS: dict[str, list[Method]] = defaultdict(list)
for _method in all_methods():
    METHODS[_method.name].append(_method)
METHOD_NAMES: tuple[str, ...] = tuple(sorted(METHODS))


def _struct_value(value: Any) -> Any:
    """A field of a structure argument: a number, TRUE/FALSE or a WDK name."""
    if isinstance(value, bool | int | str):
        return value
    raise PydanticCustomError(
        "scenario", "{found}; expected an integer, true/false or a WDK name", {"found": found(value)}
    )


def _object_ref(value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    raise PydanticCustomError(
        "scenario", '{found}; expected an object id such as "dma" (or "NULL")', {"found": found(value)}
    )


ObjectRef = Annotated[str, PlainValidator(_object_ref)]
StructValue = Annotated[Any, PlainValidator(_struct_value)]


class _Table(BaseModel):
    """Base of generated tables: strict types and unknown keys named with what is allowed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    owner: ClassVar[str] = ""  # what the table belongs to, for messages
    noun: ClassVar[str] = "input parameter"
    outputs: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key in allowed:
                    continue
                if key in cls.outputs:
                    message = "{owner}: {key} is an out-parameter (the call fills it in); inputs: {allowed}"
                else:
                    message = "{owner} has no {noun} {key}{hint}; its {noun}s: {allowed}"
                raise PydanticCustomError(
                    "unknown_key",
                    message,
                    {
                        "key": key,
                        "owner": cls.owner,
                        "noun": cls.noun,
                        "hint": suggest(str(key), allowed),
                        "allowed": ", ".join(allowed) or "(none)",
                    },
                )
        return data


def _struct_model(param: Param) -> type[BaseModel]:
    fields: dict[str, Any] = {name: (StructValue | None, None) for name in param.ptype.fields}
    model = create_model(f"Struct_{param.type}", __base__=_Table, **fields)
    model.owner = f"{param.name} ({param.type})"
    model.noun = "field"
    return model


def param_type(param: Param) -> Any:
    """The pydantic type of one parameter, from its declared WDK type and range."""
    ptype = param.ptype
    if ptype.kind == Kind.INT:
        lo, hi = param.bounds()
        return Annotated[int, Field(strict=True, ge=lo, le=hi)]
    if ptype.kind == Kind.BOOL:
        return Annotated[bool, Field(strict=True)]
    if ptype.kind == Kind.ENUM:
        return Literal[tuple(ENUM_TYPES[param.type].__members__)]  # type: ignore[misc]
    if ptype.kind == Kind.STRUCT:
        return _struct_model(param)
    # OBJECT and IID: an object id (or NULL) / an interface name or GUID.
    return ObjectRef


def _args_model(name: str, methods: list[Method]) -> type[BaseModel]:
    types: dict[str, list[Any]] = {}
    outputs: set[str] = set()
    for method in methods:
        for param in method.params:
            if param.is_input:
                types.setdefault(param.name, [])
                annotation = param_type(param)
                if annotation not in types[param.name]:
                    types[param.name].append(annotation)
            else:
                outputs.add(param.name)
    fields: dict[str, Any] = {}
    for pname, options in types.items():
        annotation = options[0]
        for other in options[1:]:
            annotation = annotation | other
        fields[pname] = (annotation | None, None)
    model = create_model(f"Args_{name}", __base__=_Table, **fields)
    model.owner = name
    model.outputs = tuple(sorted(outputs - set(types)))
    return model


class LazyModels(Mapping[str, Any]):
    """Method name -> pydantic model, each built the first time it is needed.

    Building all ~80 up front cost a third of a second at every start (``dmaviz run``,
    ``dmaviz shot``); a scenario uses a handful.
    """

    def __init__(self, names: tuple[str, ...], build: Callable[[str], Any]) -> None:
        self._names = names
        self._known = frozenset(names)
        self._build = build
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        model = self._cache.get(name)
        if model is None:
            if name not in self._known:
                raise KeyError(name)
            model = self._cache[name] = self._build(name)
        return model

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


ARG_MODELS: Mapping[str, type[BaseModel]] = LazyModels(METHOD_NAMES, lambda name: _args_model(name, METHODS[name]))


def input_params(name: str) -> dict[str, Param]:
    """Every input parameter any declaration of ``name`` has, by name."""
    out: dict[str, Param] = {}
    for method in METHODS.get(name, ()):
        for param in method.inputs:
            out.setdefault(param.name, param)
    return out


def all_params(name: str) -> dict[str, Param]:
    """Every parameter (in and out) of any declaration of ``name``."""
    out: dict[str, Param] = {}
    for method in METHODS.get(name, ()):
        for param in method.params:
            out.setdefault(param.name, param)
    return out


def returns_status(name: str) -> bool:
    return any(m.returns == "NTSTATUS" for m in METHODS.get(name, ()))


def creates_objects(name: str) -> bool:
    """Does a call of ``name`` hand out objects (an object out-parameter or return value)?"""
    for method in METHODS.get(name, ()):
        if any(p.is_output and p.ptype.kind == Kind.OBJECT for p in method.params):
            return True
    return False
