"""Mutated scenario files: whatever the damage, the answer is a ScenarioError or a working scenario."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.scenario import ScenarioError, build_world, check_expectations, load, load_text, run_world

SEEDS = [load(name).text for name in ("sb16_render", "sb16_waitfortc", "ac97_wavepci_render", "sb16_ks_states")]
LINES = sorted({line for text in SEEDS for line in text.splitlines()})
TOKENS = [
    '"', "'", "=", "[", "]", "{", "}", ",", "\n", "#", ".", "\\", '"""', "\x00", "é", "\ufeff",
    "0x", "-1", "1e9", "nan", "inf", "true", "99999999999999999999999", '"12ms"', '"-3ms"', '"0ns"',
    "KSSTATE_RUN", "[[action]]", "[[expect]]", "[[fault]]", "[shot]", "[machine]",
    'at_step = 1\n', 'after = "interrupt#2"\n', 'method = "AddRef"\n', 'object = "dma8"\n',
    'kind = "starve"\n', 'count = "glitch"\n', 'memory = "4MiB"\n', 'args = { BufferSize = 0 }\n',
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["delete", "insert", "line", "swap", "truncate", "number"]))
        pos = draw(st.integers(0, len(text)))
        if how == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)) :]
        elif how == "insert":
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos:]
        elif how == "line" or (how == "swap" and not text.strip()):
            lines = text.splitlines()
            index = draw(st.integers(0, max(0, len(lines) - 1)))
            lines.insert(index, draw(st.sampled_from(LINES)))
            text = "\n".join(lines)
        elif how == "swap" and text.strip():
            lines = text.splitlines()
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif how == "truncate":
            text = text[:pos]
        else:
            digits = [i for i, ch in enumerate(text) if ch.isdigit()]
            if digits:
                at = draw(st.sampled_from(digits))
                text = text[:at] + str(draw(st.integers(-(2**40), 2**40))) + text[at + 1 :]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_scenarios_never_raise_anything_but_scenario_error(text: str) -> None:
    try:
        scenario = load_text(text, "mutant.toml")
        world = build_world(scenario)
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith("mutant.toml: ") and "\n" not in message
        return
    try:
        run_world(world, min(scenario.run_until_ns, 30_000_000))
    except ScenarioError as exc:
        assert "\n" not in str(exc)
        return
    check_expectations(world)
