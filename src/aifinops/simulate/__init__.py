"""What-if simulators: pure functions over numbers the caller passes, with plot-ready results.

Every assumption is a parameter whose default names its source; every result has ``to_dict()``.
"""

from aifinops.simulate.bedrock import BedrockResult, simulate_bedrock
from aifinops.simulate.consolidation import ConsolidationResult, EndpointLoad, simulate_consolidation
from aifinops.simulate.gpu_utilization import GpuUtilizationResult, simulate_gpu_utilization
from aifinops.simulate.inference_mode import InferenceModeResult, simulate_inference_modes
from aifinops.simulate.savings_plans import SavingsPlanResult, evaluate_commitment, simulate_savings_plan
from aifinops.simulate.scenarios import SCENARIO_1, SCENARIO_2, SCENARIOS, inference_scenario, training_scenario
from aifinops.simulate.spot import SpotTrainingResult, simulate_spot_training, spot_cost_with_time_overhead

__all__ = [
    "SCENARIOS",
    "SCENARIO_1",
    "SCENARIO_2",
    "BedrockResult",
    "ConsolidationResult",
    "EndpointLoad",
    "GpuUtilizationResult",
    "InferenceModeResult",
    "SavingsPlanResult",
    "SpotTrainingResult",
    "evaluate_commitment",
    "inference_scenario",
    "simulate_bedrock",
    "simulate_consolidation",
    "simulate_gpu_utilization",
    "simulate_inference_modes",
    "simulate_savings_plan",
    "simulate_spot_training",
    "spot_cost_with_time_overhead",
    "training_scenario",
]
