"""GPUs per instance type, to turn CloudWatch's summed GPU utilization into a per-GPU percentage.

SageMaker's ``/aws/sagemaker/Endpoints`` and ``/aws/sagemaker/TrainingJobs`` GPUUtilization is the sum
over the instance's GPUs (0-100 x GPUs; reference data-formats-and-prices.md §5.3). Counts are from
the AWS "Accelerated computing" instance type specifications (docs.aws.amazon.com/ec2/latest/
instancetypes/ac.html); SageMaker ``ml.`` types have the same hardware as their EC2 namesakes.
"""

from __future__ import annotations

_ONE_GPU = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")
_BY_FAMILY: dict[str, dict[str, int]] = {
    "g4dn": {**dict.fromkeys(_ONE_GPU, 1), "12xlarge": 4, "metal": 8},
    "g5": {**dict.fromkeys(_ONE_GPU, 1), "12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6": {**dict.fromkeys(_ONE_GPU, 1), "12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6e": {**dict.fromkeys(_ONE_GPU, 1), "12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"4xlarge": 1, "48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
}


def gpus_per_instance(instance_type: str | None) -> int | None:
    """GPUs of an instance type ('ml.g5.12xlarge' → 4, 'p4d.24xlarge' → 8); None when unknown or CPU."""
    if not instance_type:
        return None
    family, _, size = instance_type.removeprefix("ml.").partition(".")
    return _BY_FAMILY.get(family, {}).get(size)
