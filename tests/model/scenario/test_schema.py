"""The schema is derived from the interface declarations: every method, parameter, type and range."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from model.interfaces.declarations import all_methods
from model.interfaces.types import Kind
from model.kernel.types import ENUM_TYPES
from model.scenario import ScenarioError, load_text
from model.scenario.methods import ARG_MODELS, METHOD_NAMES, input_params
from model.scenario.schema import CALL_ACTIONS, format_duration
from model.topology import DEVICE_KINDS

DECLARED = sorted({m.name for m in all_methods()})


def test_every_declared_method_has_an_argument_model() -> None:
    assert list(METHOD_NAMES) == DECLARED
    assert set(ARG_MODELS) == set(CALL_ACTIONS) == set(DECLARED)


@pytest.mark.parametrize("name", DECLARED)
def test_argument_model_has_exactly_the_input_parameters(name: str) -> None:
    expected = {p.name for m in all_methods() if m.name == name for p in m.inputs}
    assert set(ARG_MODELS[name].model_fields) == expected
    assert set(input_params(name)) == expected


def _scenario_calling(method: str, obj: str, args: str) -> str:
    return (
        'title = "t"\n[device]\nkind = "sb16"\n[[stream]]\n'
        f'[[action]]\nat = "1ms"\nobject = "{obj}"\nmethod = "{method}"\nargs = {{ {args} }}\n'
    )


def _bounded_int_params() -> list[tuple[str, str, int, int]]:
    out = []
    for method in all_methods():
        for param in method.inputs:
            if param.ptype.kind == Kind.INT:
                lo, hi = param.bounds()
                out.append((method.name, param.name, lo, hi))
    return sorted(set(out))


@pytest.mark.parametrize(("method", "param", "lo", "hi"), _bounded_int_params())
def test_integer_ranges_come_from_the_declarations(method: str, param: str, lo: int, hi: int) -> None:
    model = ARG_MODELS[method]
    assert model.model_validate({param: lo}) is not None
    assert model.model_validate({param: hi}) is not None
    for bad in (lo - 1, hi + 1):
        with pytest.raises(ValidationError):
            model.model_validate({param: bad})


def test_enum_parameters_take_their_wdk_names() -> None:
    for method in all_methods():
        for param in method.inputs:
            if param.ptype.kind == Kind.ENUM:
                model = ARG_MODELS[method.name]
                for name in ENUM_TYPES[param.type].__members__:
                    model.model_validate({param.name: name})
                with pytest.raises(ValidationError):
                    model.model_validate({param.name: "NOT_A_NAME"})


def test_struct_fields_come_from_the_declared_type() -> None:
    model = ARG_MODELS["PcNewDmaChannel"]
    fields = model.model_fields["DeviceDescription"].annotation
    assert fields is not None
    good = {"DeviceDescription": {"Master": True, "DmaWidth": "Width32Bits", "MaximumLength": 4096}}
    assert model.model_validate(good) is not None
    with pytest.raises(ValidationError):
        model.model_validate({"DeviceDescription": {"NoSuchField": 1}})


def test_device_kinds_come_from_the_topology() -> None:
    for kind in DEVICE_KINDS:
        assert load_text(f'title = "t"\n[device]\nkind = "{kind}"\n').device == kind


def test_unknown_method_suggests_and_lists() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(_scenario_calling("Frobnicate", "dma", ""), "x.toml")
    message = str(info.value)
    assert message.startswith('x.toml: action[0].method: no interface has a method "Frobnicate"; methods: ')
    assert all(name in message for name in DECLARED)


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text('title = "t"\n[device]\nkind = "sb16"\n[run]\nuntill = "1s"\n', "x.toml")
    assert str(info.value) == "x.toml: run.untill: unknown key untill (did you mean until?); [run] may have: until"


@pytest.mark.parametrize(
    ("ns", "text"), [(0, "0ms"), (1, "1ns"), (1500, "1500ns"), (12_000_000, "12ms"), (3_000_000_000, "3s")]
)
def test_durations_are_written_exactly(ns: int, text: str) -> None:
    assert format_duration(ns) == text
