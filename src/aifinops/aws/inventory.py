"""Inventory collectors: boto3 responses → snapshot records (the shapes of demo/inventory.py).

A record is ``{account_id, region, resource_type, resource_id, name, collected_at, attributes}``;
``attributes`` is the API response (cleaned by ``runner.clean``) plus ``Tags`` where the service has
them. Each function reads one service in one ``Scope`` and returns what it could read; failures are
recorded in the scope's skip log, never raised.

Records hold what AWS answered; ``collect`` passes them through ``redact.py`` (the one redaction rule:
environment values, lifecycle scripts, secret-named and secret-shaped values) before anything is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aifinops import resource_types as rt
from aifinops.aws.runner import Scope
from aifinops.taxonomy import ACCELERATED_FAMILIES


def record(scope: Scope, kind: str, resource_id: str, name: str, attributes: dict, collected_at: str,
           region: str | None = None) -> dict:
    return {
        "account_id": scope.account_id,
        "region": region or scope.region,
        "resource_type": kind,
        "resource_id": resource_id,
        "name": name,
        "collected_at": collected_at,
        "attributes": attributes,
    }


def _tags(scope: Scope, arn: str) -> list[dict]:
    return scope.pages("sagemaker", "ListTags", "Tags", ResourceArn=arn) or []


def sagemaker_endpoints(scope: Scope, collected_at: str) -> list[dict]:
    """Endpoints with their config, production variants, autoscaling targets and policies, tags."""
    summaries = scope.pages("sagemaker", "ListEndpoints", "Endpoints")
    if not summaries:
        return []
    targets = scope.pages("application-autoscaling", "DescribeScalableTargets", "ScalableTargets",
                          ServiceNamespace="sagemaker") or []
    policies = scope.pages("application-autoscaling", "DescribeScalingPolicies", "ScalingPolicies",
                           ServiceNamespace="sagemaker") or []
    out = []
    for summary in summaries:
        endpoint = scope.call("sagemaker", "DescribeEndpoint", EndpointName=summary["EndpointName"])
        if not endpoint:
            continue
        attributes: dict[str, Any] = {"Endpoint": endpoint}
        config = scope.call("sagemaker", "DescribeEndpointConfig", EndpointConfigName=endpoint["EndpointConfigName"])
        if config:
            attributes["EndpointConfig"] = config
        prefix = f"endpoint/{endpoint['EndpointName']}/variant/"
        mine = [t for t in targets if t.get("ResourceId", "").startswith(prefix)]
        if mine:
            attributes["Autoscaling"] = {
                "ScalableTargets": mine,
                "ScalingPolicies": [p for p in policies if p.get("ResourceId", "").startswith(prefix)],
            }
        attributes["Tags"] = _tags(scope, endpoint["EndpointArn"])
        out.append(record(scope, rt.SAGEMAKER_ENDPOINT, endpoint["EndpointArn"], endpoint["EndpointName"],
                          attributes, collected_at))
    return out


def notebooks(scope: Scope, collected_at: str) -> list[dict]:
    """Notebook instances with their lifecycle configuration (when one is attached) and tags."""
    out = []
    lifecycle: dict[str, dict | None] = {}
    for summary in scope.pages("sagemaker", "ListNotebookInstances", "NotebookInstances") or []:
        nb = scope.call("sagemaker", "DescribeNotebookInstance", NotebookInstanceName=summary["NotebookInstanceName"])
        if not nb:
            continue
        config_name = nb.get("NotebookInstanceLifecycleConfigName")
        if config_name:
            if config_name not in lifecycle:
                config = scope.call("sagemaker", "DescribeNotebookInstanceLifecycleConfig",
                                    NotebookInstanceLifecycleConfigName=config_name)
                lifecycle[config_name] = config
            if lifecycle[config_name]:
                nb["LifecycleConfig"] = lifecycle[config_name]
        nb["Tags"] = _tags(scope, nb["NotebookInstanceArn"])
        out.append(record(scope, rt.SAGEMAKER_NOTEBOOK, nb["NotebookInstanceArn"], nb["NotebookInstanceName"], nb,
                          collected_at))
    return out


def studio(scope: Scope, collected_at: str) -> list[dict]:
    """Studio apps (ListApps items) and spaces (ListSpaces items)."""
    out = []
    prefix = f"arn:aws:sagemaker:{scope.region}:{scope.account_id}"
    for app in scope.pages("sagemaker", "ListApps", "Apps") or []:
        owner = app.get("SpaceName") or app.get("UserProfileName") or ""
        arn = f"{prefix}:app/{app['DomainId']}/{owner}/{app['AppType'].lower()}/{app['AppName']}"
        out.append(record(scope, rt.SAGEMAKER_STUDIO_APP, arn, f"{owner}/{app['AppName']}", app, collected_at))
    for space in scope.pages("sagemaker", "ListSpaces", "Spaces") or []:
        arn = f"{prefix}:space/{space['DomainId']}/{space['SpaceName']}"
        out.append(record(scope, rt.SAGEMAKER_STUDIO_SPACE, arn, space["SpaceName"], space, collected_at))
    return out


# (resource type, list operation, list key, name field, describe operation, ARN field)
_JOB_KINDS = (
    (rt.SAGEMAKER_TRAINING_JOB, "ListTrainingJobs", "TrainingJobSummaries", "TrainingJobName",
     "DescribeTrainingJob", "TrainingJobArn"),
    (rt.SAGEMAKER_PROCESSING_JOB, "ListProcessingJobs", "ProcessingJobSummaries", "ProcessingJobName",
     "DescribeProcessingJob", "ProcessingJobArn"),
    (rt.SAGEMAKER_TRANSFORM_JOB, "ListTransformJobs", "TransformJobSummaries", "TransformJobName",
     "DescribeTransformJob", "TransformJobArn"),
)


def jobs(scope: Scope, since: datetime, collected_at: str) -> list[dict]:
    """Training, processing and transform jobs created since ``since`` (Describe* responses + tags).

    Training jobs keep EnableManagedSpotTraining, CheckpointConfig, TrainingTimeInSeconds and
    BillableTimeInSeconds as DescribeTrainingJob returns them (absent while a job runs).
    """
    out = []
    for kind, list_op, key, name_field, describe_op, arn_field in _JOB_KINDS:
        for summary in scope.pages("sagemaker", list_op, key, CreationTimeAfter=since) or []:
            job = scope.call("sagemaker", describe_op, **{name_field: summary[name_field]})
            if not job:
                continue
            job["Tags"] = _tags(scope, job[arn_field])
            out.append(record(scope, kind, job[arn_field], job[name_field], job, collected_at))
    return out


def bedrock_provisioned(scope: Scope, collected_at: str) -> list[dict]:
    items = scope.pages("bedrock", "ListProvisionedModelThroughputs", "provisionedModelSummaries") or []
    return [
        record(scope, rt.BEDROCK_PROVISIONED_THROUGHPUT, p["provisionedModelArn"], p["provisionedModelName"], p,
               collected_at)
        for p in items
    ]


def gpu_instances(scope: Scope, collected_at: str) -> list[dict]:
    """EC2 instances of the GPU / AWS-silicon families (taxonomy.ACCELERATED_FAMILIES).

    The family test runs here rather than in an ``instance-type`` filter: it is exact and needs no
    wildcard support from the endpoint.
    """
    families = set(ACCELERATED_FAMILIES)
    out = []
    for reservation in scope.pages("ec2", "DescribeInstances", "Reservations") or []:
        for inst in reservation.get("Instances", []):
            if inst.get("InstanceType", "").split(".")[0] not in families:
                continue
            arn = f"arn:aws:ec2:{scope.region}:{scope.account_id}:instance/{inst['InstanceId']}"
            out.append(record(scope, rt.EC2_INSTANCE, arn, inst["InstanceId"], inst, collected_at))
    return out


def comprehend_endpoints(scope: Scope, collected_at: str) -> list[dict]:
    items = scope.pages("comprehend", "ListEndpoints", "EndpointPropertiesList") or []
    return [
        record(scope, rt.COMPREHEND_ENDPOINT, e["EndpointArn"], e["EndpointArn"].rsplit("/", 1)[-1], e, collected_at)
        for e in items
    ]


def bucket_regions(scope: Scope) -> dict[str, tuple[dict, str]]:
    """Every bucket of the account: name -> (ListBuckets item, region code)."""
    out = {}
    for bucket in scope.pages("s3", "ListBuckets", "Buckets") or []:
        region = bucket.get("BucketRegion")
        if not region:
            location = scope.call("s3", "GetBucketLocation", Bucket=bucket["Name"])
            if location is None:
                continue
            # None means us-east-1; 'EU' is the legacy name of eu-west-1
            region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(
                location.get("LocationConstraint"), location.get("LocationConstraint"))
        out[bucket["Name"]] = (bucket, str(region))
    return out


def s3_bucket(scope: Scope, bucket: dict, region: str, storage_bytes: dict[str, float], collected_at: str) -> dict:
    """One bucket: region, lifecycle rules, Intelligent-Tiering configurations, tags, bytes per storage type."""
    name = bucket["Name"]
    attributes: dict[str, Any] = {
        "Name": name,
        "CreationDate": bucket.get("CreationDate"),
        "LocationConstraint": None if region == "us-east-1" else region,
    }
    lifecycle = scope.call("s3", "GetBucketLifecycleConfiguration", region=region, Bucket=name,
                           missing=frozenset({"NoSuchLifecycleConfiguration"}))
    if lifecycle:
        attributes["LifecycleConfiguration"] = {"Rules": lifecycle.get("Rules", [])}
    tiering = scope.call("s3", "ListBucketIntelligentTieringConfigurations", region=region, Bucket=name)
    if tiering is not None:
        attributes["IntelligentTieringConfigurations"] = tiering.get("IntelligentTieringConfigurationList", [])
    tags = scope.call("s3", "GetBucketTagging", region=region, Bucket=name, missing=frozenset({"NoSuchTagSet"}))
    attributes["TagSet"] = (tags or {}).get("TagSet", [])
    attributes["StorageClassBytes"] = storage_bytes
    return record(scope, rt.S3_BUCKET, name, name, attributes, collected_at, region=region)
