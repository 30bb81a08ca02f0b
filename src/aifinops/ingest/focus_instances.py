"""EC2 instance type and usage type of FOCUS rows that lack AWS's ``x_UsageType`` / ``SkuMeter``.

FOCUS files from other exporters (the FinOps Foundation sample, converters) have no AWS usage type, so
the taxonomy, which reads instance types out of usage types (``BoxUsage:g5.4xlarge``), cannot see GPU
instance hours. Their ``ChargeDescription`` is the AWS Price List description of the rate, which names
the instance type: "$1.624 per On Demand Linux g5.4xlarge Instance Hour" (``ResourceType`` 'instance').

- The instance type is taken from such an EC2 instance-hour description. Descriptions of per-instance
  surcharges that are not instance hours ("$0.0 for 1000 Mbps per c5.xlarge instance-hour", the
  EBS-optimized rate) are left alone: CUR bills them under ``EBSOptimized:…``, not as instance hours.
- The usage type is rebuilt only where CUR's is certain: an "On Demand" shared-tenancy instance hour is
  ``BoxUsage:<type>``, a Spot one (``PricingCategory`` 'Dynamic') ``SpotUsage:<type>``, prefixed by the
  region's usage-type code (none in us-east-1, as EC2 writes it: ``USW2-BoxUsage:…``). Dedicated, host
  and unknown-region rows keep a NULL usage type and carry the instance type alone (the taxonomy falls
  back to it when the usage type is NULL).
"""

from __future__ import annotations

from aifinops.ingest.sqlparts import Columns
from aifinops.taxonomy import REGION_USAGE_PREFIXES

# An EC2 instance type: family (letters, digits, '-', e.g. 'm7i-flex', 'u-6tb1') '.' size.
_TYPE = r"([a-z][a-z0-9-]*\.[0-9]*(?:xlarge|large|medium|small|micro|nano|metal(?:-[0-9a-z]+)?))"
_INSTANCE_HOUR = r"(?i)instance[ -]hour"


def _is_ec2(c: Columns) -> str:
    return (
        f"(COALESCE({c.text('x_ServiceCode')}, '') = 'AmazonEC2'"
        f" OR COALESCE({c.text('ServiceName')}, '') = 'Amazon Elastic Compute Cloud')"
    )


def instance_type_sql(c: Columns) -> str:
    """The EC2 instance type of an instance-hour row, from its ChargeDescription; else NULL."""
    if not c.has("ChargeDescription"):
        return "CAST(NULL AS VARCHAR)"
    desc = c.text("ChargeDescription")
    return (
        f"CASE WHEN {_is_ec2(c)} AND regexp_matches({desc}, '{_INSTANCE_HOUR}')"
        f" AND NOT regexp_matches({desc}, '(?i)[0-9] *[MG]bps')"
        f" THEN NULLIF(regexp_extract({desc}, '(?:^|[ ,(]){_TYPE}(?:[ ,)]|$)', 1), '') END"
    )


def usage_type_sql(c: Columns) -> str:
    """CUR's usage type for an on-demand or Spot shared-tenancy instance hour; else NULL."""
    if not c.has("ChargeDescription"):
        return "CAST(NULL AS VARCHAR)"
    desc = c.text("ChargeDescription")
    region = c.text("RegionId")
    prefix = (
        "CASE "
        + region
        + " "
        + " ".join(f"WHEN '{r}' THEN '{p + '-' if p else ''}'" for r, p in sorted(REGION_USAGE_PREFIXES.items()))
        + " END"
    )
    kind = (
        f"CASE WHEN {c.text('PricingCategory')} = 'Dynamic' THEN 'SpotUsage:'"
        f" WHEN regexp_matches({desc}, '(?i)per On Demand ') THEN 'BoxUsage:' END"
    )
    return (
        f"CASE WHEN NOT regexp_matches(COALESCE({desc}, ''), '(?i)dedicated|\\bhost\\b')"
        f" THEN {prefix} || {kind} || {instance_type_sql(c)} END"
    )
