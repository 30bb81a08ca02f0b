"""``aifinops simulate ...`` takes each option's default from its simulator (one home per assumption).

The expectations are read from the simulators' own signatures (where each default sits beside the comment
naming its source), never retyped here: a changed simulator default must change the CLI's default and help.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
import typer
from typer.core import TyperGroup, TyperOption

from aifinops.commands.simulate import app
from aifinops.simulate import (
    simulate_bedrock,
    simulate_consolidation,
    simulate_gpu_utilization,
    simulate_inference_modes,
    simulate_savings_plan,
    simulate_spot_training,
)
from clirun import run_cli

# CLI command → (its simulator, CLI option name → simulator parameter where the two names differ)
SIMULATORS: dict[str, tuple[Callable[..., Any], dict[str, str]]] = {
    "spot": (simulate_spot_training, {"usd_per_hour": "on_demand_usd_per_hour"}),
    "consolidation": (simulate_consolidation, {}),
    "inference-mode": (simulate_inference_modes, {"usd_per_hour": "instance_usd_per_hour"}),
    "bedrock": (simulate_bedrock, {}),
    "savings-plan": (simulate_savings_plan, {}),
    "gpu-utilization": (simulate_gpu_utilization, {"before": "utilization_before", "after": "utilization_after"}),
}
# Options that are the CLI's own (output format and file), or inputs the simulator takes in another shape.
CLI_ONLY = {"fmt", "output", "endpoints", "hourly_spend", "requests_per_hour"}


def _options(name: str) -> list[TyperOption]:
    """The command's optional options, as the CLI parses them."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return [p for p in group.commands[name].params if isinstance(p, TyperOption) and not p.required]


@pytest.mark.parametrize("name", sorted(SIMULATORS))
def test_each_option_default_is_the_simulators(name):
    simulator, renamed = SIMULATORS[name]
    signature = inspect.signature(simulator).parameters
    compared = 0
    for option in _options(name):
        assert option.name is not None
        if option.name in CLI_ONLY:
            continue
        param = renamed.get(option.name, option.name)
        assert param in signature, f"simulate {name} --{option.name}: {simulator.__name__} has no {param!r}"
        expected = signature[param].default
        assert expected is not inspect.Parameter.empty, f"{simulator.__name__}({param}) has no default"
        assert option.default == expected and type(option.default) is type(expected), (
            f"simulate {name} --{option.name} defaults to {option.default!r}, "
            f"{simulator.__name__}({param}=...) to {expected!r}")
        compared += 1
    assert compared >= 2, name


def test_help_prints_the_simulators_default():
    after = inspect.signature(simulate_gpu_utilization).parameters["utilization_after"].default
    r = run_cli("simulate", "gpu-utilization", "--help")
    assert r.returncode == 0, r.stderr
    line = next(line for line in r.stdout.splitlines() if "--after" in line)
    assert f"[default: {after}]" in line, line
