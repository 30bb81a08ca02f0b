"""GPUs per instance type, to turn CloudWatch's summed GPU utilization into a per-GPU percentage.

SageMaker's ``/aws/sagemaker/Endpoints`` and ``/aws/sagemaker/TrainingJobs`` GPUUtilization is the sum
over the instance's GPUs (0-100 x GPUs; AWS SageMaker Developer Guide, CloudWatch metrics for endpoints).
The counts live in one place, the instance specifications of the price catalog
(``aifinops/pricing/data/instance_specs.csv``, from the AWS "Accelerated computing" instance type
specifications); SageMaker ``ml.`` types have the same hardware as their EC2 namesakes. Inferentia and
Trainium chips count as accelerators here.
"""

from __future__ import annotations

from aifinops.pricing import PriceNotFound, instance_specs


def gpus_per_instance(instance_type: str | None) -> int | None:
    """GPUs of an instance type ('ml.g5.12xlarge' → 4, 'p6-b200.48xlarge' → 8); None when unknown or CPU."""
    if not instance_type:
        return None
    try:
        return instance_specs(instance_type).gpus or None
    except PriceNotFound:
        return None
