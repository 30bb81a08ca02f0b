"""Public facts the generator prices its accounts with, each with its source.

Kept apart from ``aifinops.pricing`` on purpose: the truth must not come from the code it grades. Prices are
us-east-1 on-demand list prices from /work/shared/reference/data-formats-and-prices.md §3 (us-west-2 assumed
equal, as the reference states for EC2 GPU types); specs are AWS's published instance specs.
"""

from __future__ import annotations

HOURS_PER_MONTH = 730.0

# SageMaker $/h (reference §3a; hosting, training and notebook rates taken equal, as the reference's bills show)
SAGEMAKER_USD_PER_H = {
    "ml.t3.medium": 0.05, "ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461,
    "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408, "ml.g4dn.xlarge": 0.7364, "ml.g5.xlarge": 1.4084,
    "ml.g5.2xlarge": 1.515, "ml.g5.12xlarge": 7.09, "ml.g4dn.12xlarge": 4.89, "ml.g6.xlarge": 1.127,
    "ml.p3.2xlarge": 3.825,
}  # fmt: skip
# EC2 Linux on-demand $/h (reference §3b)
EC2_USD_PER_H = {
    "g4dn.xlarge": 0.526, "g5.xlarge": 1.006, "g5.2xlarge": 1.212, "g5.12xlarge": 5.672, "g6.xlarge": 0.8048,
    "p3.2xlarge": 3.06, "m5.large": 0.096,
}  # fmt: skip

# name (without ml.) -> (vCPUs, memory GiB, GPUs, GPU memory GiB per GPU, GPU model); AWS instance type pages
SPECS = {
    "t3.medium": (2, 4, 0, 0, None), "m5.large": (2, 8, 0, 0, None), "m5.xlarge": (4, 16, 0, 0, None),
    "m5.2xlarge": (8, 32, 0, 0, None), "c5.xlarge": (4, 8, 0, 0, None), "c5.2xlarge": (8, 16, 0, 0, None),
    "g4dn.xlarge": (4, 16, 1, 16, "T4"), "g5.xlarge": (4, 16, 1, 24, "A10G"), "g5.2xlarge": (8, 32, 1, 24, "A10G"),
    "g5.12xlarge": (48, 192, 4, 24, "A10G"),
    "g4dn.12xlarge": (48, 192, 4, 16, "T4"), "g6.xlarge": (4, 16, 1, 24, "L4"), "p3.2xlarge": (8, 61, 1, 16, "V100"),
}  # fmt: skip
# dense FP16 tensor TFLOPS per GPU (NVIDIA datasheets: T4 65, A10/A10G 125, L4 121, V100 125)
GPU_TFLOPS = {"T4": 65.0, "A10G": 125.0, "L4": 121.0, "V100": 125.0}

# Bedrock $ per 1M tokens (reference §3c): input, output
NOVA_PRO = (0.80, 3.20)
SONNET_45 = (3.00, 15.00)
CLAUDE_CACHE_READ, CLAUDE_CACHE_WRITE = 0.1, 1.25  # x input price, 5-minute TTL (reference §3c)
CACHE_TTL_S = 300
CACHE_MIN_TOKENS = 1024  # smallest cacheable prefix for Sonnet (reference §3c)
BATCH_DISCOUNT = 0.5  # batch = 50% of on-demand (reference §3c, AWS docs)

S3_STANDARD_USD_PER_GB_MONTH = 0.023  # reference §3d
S3_IT_INFREQUENT_USD_PER_GB_MONTH = 0.0125  # Intelligent-Tiering after 30 days unread (reference §3d)
INTER_REGION_USD_PER_GB = 0.02  # reference §3d
SERVERLESS_USD_PER_GB_S = 0.00002  # reference §3a: 1 GB = $0.00002/s ... 6 GB
SERVERLESS_SIZES_GB = (1, 2, 3, 4, 5, 6)

# Planning inputs, not data: no account file can tell them, so the truth states them (reference §3a/§3b)
SPOT_DISCOUNT = 0.70  # managed Spot training, the reference's planning figure (60-70%), top end
SAVINGS_PLAN_DISCOUNT = 0.20  # the offer rate assumed for a 1-year SageMaker Savings Plan (low end of 20-64%)
BATCH_START_OVERHEAD_H = 0.25  # a batch transform job's billed start-up per run
TARGET_UTIL = 0.60  # keep peak per instance at 60% after scale-in/packing (40% headroom)
MIN_INSTANCES = 2  # production endpoints keep two instances across AZs (SageMaker docs)
TARGET_GPU_UTIL = 0.70
MEMORY_HEADROOM = 1.2
WORKING_HOURS_NEEDED_RANGE = (45.0, 55.0)  # hours a week the notebook owner works in it (the account's truth)


def sm_rate(instance_type: str) -> float:
    return SAGEMAKER_USD_PER_H[instance_type]


def spec(instance_type: str) -> tuple:
    return SPECS[instance_type.removeprefix("ml.")]
