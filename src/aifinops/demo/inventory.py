"""Inventory records (one per resource) for the demo company, as ``snapshot/resources.jsonl`` holds them.

Each record: ``account_id, region, resource_type, resource_id, name, collected_at, attributes``.
``attributes`` keeps the boto3 response shapes (ResponseMetadata dropped, datetimes as ISO-8601 strings):

- sagemaker-endpoint: ``{"Endpoint": DescribeEndpoint, "EndpointConfig": DescribeEndpointConfig,
  "Autoscaling": {"ScalableTargets": [DescribeScalableTargets item], "ScalingPolicies": [...]}}``
  (``Autoscaling`` only where a scalable target is registered); ``Tags`` = ListTags.
- sagemaker-notebook: DescribeNotebookInstance (+ ``Tags``); NotebookInstanceLifecycleConfigName only
  when one is attached.
- sagemaker-studio-app: a ListApps ``Apps`` item (+ ``Tags``).
- sagemaker-training-job: DescribeTrainingJob (+ ``Tags``).
- s3-bucket: ``{"Name", "CreationDate", "LocationConstraint", "LifecycleConfiguration" (absent when the
  bucket has none: NoSuchLifecycleConfiguration), "TagSet", "StorageClassBytes": {StorageType: bytes}}``.
- ec2-instance: a DescribeInstances ``Reservations[].Instances[]`` item (GPU instances only).
- cloudwatch-alarm: a DescribeAlarms ``MetricAlarms`` item. cloudwatch-dashboard: GetDashboard.
- budget: a DescribeBudgets ``Budgets`` item. bedrock-provisioned-throughput: none in the demo.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from aifinops import resource_types as rt
from aifinops.demo.account import (
    INSTANCE_SPECS,
    PAYER,
    SNAPSHOT_AT,
    STUDIO_DOMAIN,
    DemoAccount,
    Endpoint,
    running_hours,
    stable_id,
)

_IMAGE = "763104351884.dkr.ecr.{region}.amazonaws.com/pytorch-{kind}:2.3.0-{dev}-py311-ubuntu20.04-sagemaker"
GPU_ALARM_THRESHOLD_PCT = 20.0
_AUTOSCALING_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def iso(ts: datetime | date) -> str:
    if isinstance(ts, datetime):
        return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return ts.isoformat()


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k.removeprefix("user:"), "Value": v} for k, v in tags.items()]


def _record(account: str, region: str, kind: str, resource_id: str, name: str, attributes: dict) -> dict:
    return {
        "account_id": account,
        "region": region,
        "resource_type": kind,
        "resource_id": resource_id,
        "name": name,
        "collected_at": iso(SNAPSHOT_AT),
        "attributes": attributes,
    }


def _role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/service-role/AmazonSageMaker-ExecutionRole-20240201T101500"


def _endpoint(e: Endpoint) -> dict:
    config = f"{e.name}-config-{e.created:%Y%m%d}"
    model = f"{e.name}-model"
    gpu = INSTANCE_SPECS[e.instance_type][1] > 0
    image = _IMAGE.format(region=e.region, kind="inference", dev="gpu" if gpu else "cpu")
    count = e.instances_at(SNAPSHOT_AT)
    capture = {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 20,
        "DestinationS3Uri": f"s3://acme-ml-model-artifacts/datacapture/{e.name}",
    }
    endpoint: dict[str, Any] = {
        "EndpointName": e.name,
        "EndpointArn": e.arn,
        "EndpointConfigName": config,
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "DeployedImages": [
                    {"SpecifiedImage": image, "ResolvedImage": image, "ResolutionTime": iso(e.created)}
                ],
                "CurrentWeight": 1.0,
                "DesiredWeight": 1.0,
                "CurrentInstanceCount": count,
                "DesiredInstanceCount": count,
            }
        ],
        "EndpointStatus": "InService",
        "CreationTime": iso(e.created),
        "LastModifiedTime": iso(e.created),
    }
    endpoint_config = {
        "EndpointConfigName": config,
        "EndpointConfigArn": f"arn:aws:sagemaker:{e.region}:{e.account}:endpoint-config/{config}",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": e.count,
                "InstanceType": e.instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
        "CreationTime": iso(e.created),
        "EnableNetworkIsolation": False,
    }
    if e.data_capture:
        endpoint["DataCaptureConfig"] = capture
        endpoint_config["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 20,
            "DestinationS3Uri": capture["DestinationS3Uri"],
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    attributes = {"Endpoint": endpoint, "EndpointConfig": endpoint_config, "Tags": _tag_list(e.tags)}
    if e.autoscaling:
        resource = f"endpoint/{e.name}/variant/AllTraffic"
        dimension = "sagemaker:variant:DesiredInstanceCount"
        policy = f"{e.name}-invocations-target"
        attributes["Autoscaling"] = {
            "ScalableTargets": [
                {
                    "ServiceNamespace": "sagemaker",
                    "ResourceId": resource,
                    "ScalableDimension": dimension,
                    "MinCapacity": e.autoscaling[0],
                    "MaxCapacity": e.autoscaling[1],
                    "RoleARN": f"arn:aws:iam::{e.account}:role/{_AUTOSCALING_ROLE}",
                    "CreationTime": iso(e.created),
                    "SuspendedState": {
                        "DynamicScalingInSuspended": False,
                        "DynamicScalingOutSuspended": False,
                        "ScheduledScalingSuspended": False,
                    },
                }
            ],
            "ScalingPolicies": [
                {
                    "PolicyARN": f"arn:aws:autoscaling:{e.region}:{e.account}:scalingPolicy:"
                    f"{stable_id(e.name, length=8)}-{stable_id(e.name, 1, length=4)}:resource/sagemaker/"
                    f"{resource}:policyName/{policy}",
                    "PolicyName": policy,
                    "ServiceNamespace": "sagemaker",
                    "ResourceId": resource,
                    "ScalableDimension": dimension,
                    "PolicyType": "TargetTrackingScaling",
                    "TargetTrackingScalingPolicyConfiguration": {
                        "TargetValue": 1000.0,
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                        },
                        "ScaleOutCooldown": 300,
                        "ScaleInCooldown": 600,
                        "DisableScaleIn": False,
                    },
                    "Alarms": [],
                    "CreationTime": iso(e.created),
                }
            ],
        }
    return _record(e.account, e.region, rt.SAGEMAKER_ENDPOINT, e.arn, e.name, attributes)


def _notebooks(acct: DemoAccount) -> list[dict]:
    out = []
    for nb in acct.notebooks:
        running = SNAPSHOT_AT.hour in running_hours(nb.schedule, SNAPSHOT_AT.date())
        attributes = {
            "NotebookInstanceArn": nb.arn,
            "NotebookInstanceName": nb.name,
            "NotebookInstanceStatus": "InService" if running else "Stopped",
            "Url": f"{nb.name}.notebook.{nb.region}.sagemaker.aws",
            "InstanceType": nb.instance_type,
            "RoleArn": _role(nb.account),
            "LastModifiedTime": iso(nb.created),
            "CreationTime": iso(nb.created),
            "DirectInternetAccess": "Enabled",
            "VolumeSizeInGB": 50,
            "RootAccess": "Enabled",
            "PlatformIdentifier": "notebook-al2-v2",
            "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"},
            "Tags": _tag_list(nb.tags),
        }
        if nb.lifecycle_config:
            attributes["NotebookInstanceLifecycleConfigName"] = nb.lifecycle_config
        out.append(_record(nb.account, nb.region, rt.SAGEMAKER_NOTEBOOK, nb.arn, nb.name, attributes))
    return out


def _studio_apps(acct: DemoAccount) -> list[dict]:
    out = []
    for app in acct.studio_apps:
        running = SNAPSHOT_AT.hour in running_hours(app.schedule, SNAPSHOT_AT.date())
        gpu = INSTANCE_SPECS[app.instance_type][1] > 0
        attributes = {
            "DomainId": STUDIO_DOMAIN,
            "SpaceName": app.space,
            "AppType": "JupyterLab",
            "AppName": "default",
            "Status": "InService" if running else "Deleted",
            "CreationTime": iso(datetime(2024, 5, 6, tzinfo=UTC)),
            "ResourceSpec": {
                "SageMakerImageArn": f"arn:aws:sagemaker:{app.region}:885854791233:image/"
                f"sagemaker-distribution-{'gpu' if gpu else 'cpu'}",
                "InstanceType": app.instance_type,
            },
            "Tags": _tag_list(app.tags),
        }
        out.append(
            _record(
                app.account, app.region, rt.SAGEMAKER_STUDIO_APP, app.arn, f"{app.space}/default", attributes
            )
        )
    return out


def _training_jobs(acct: DemoAccount) -> list[dict]:
    out = []
    for job in acct.training_jobs:
        gpu = INSTANCE_SPECS[job.instance_type][1] > 0
        created = job.start.replace(second=0)
        attributes = {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "ModelArtifacts": {"S3ModelArtifacts": f"{job.output_uri}{job.name}/output/model.tar.gz"},
            "HyperParameters": {"epochs": "30", "batch-size": "64", "learning-rate": "0.0003"},
            "AlgorithmSpecification": {
                "TrainingImage": _IMAGE.format(
                    region=job.region, kind="training", dev="gpu" if gpu else "cpu"
                ),
                "TrainingInputMode": "File",
                "EnableSageMakerMetricsTimeSeries": False,
            },
            "RoleArn": _role(job.account),
            "InputDataConfig": [
                {
                    "ChannelName": "training",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": job.input_uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                    "CompressionType": "None",
                    "RecordWrapperType": "None",
                }
            ],
            "OutputDataConfig": {"KmsKeyId": "", "S3OutputPath": job.output_uri, "CompressionType": "GZIP"},
            "ResourceConfig": {
                "InstanceType": job.instance_type,
                "InstanceCount": job.count,
                "VolumeSizeInGB": 200,
            },
            "StoppingCondition": {
                "MaxRuntimeInSeconds": 86400,
                **({"MaxWaitTimeInSeconds": 172800} if job.spot else {}),
            },
            "CreationTime": iso(created),
            "TrainingStartTime": iso(job.start),
            "TrainingEndTime": iso(job.end),
            "LastModifiedTime": iso(job.end),
            "EnableNetworkIsolation": False,
            "EnableInterContainerTrafficEncryption": False,
            "EnableManagedSpotTraining": job.spot,
            "TrainingTimeInSeconds": job.training_s,
            "BillableTimeInSeconds": job.billable_s,
            "Tags": _tag_list(job.tags),
        }
        if job.checkpoint_uri:
            attributes["CheckpointConfig"] = {"S3Uri": job.checkpoint_uri, "LocalPath": "/opt/ml/checkpoints"}
        out.append(_record(job.account, job.region, rt.SAGEMAKER_TRAINING_JOB, job.arn, job.name, attributes))
    return out


def _buckets(acct: DemoAccount) -> list[dict]:
    out = []
    n_days = (SNAPSHOT_AT.date() - date(2024, 9, 1)).days
    for b in acct.buckets:
        attributes: dict[str, Any] = {
            "Name": b.name,
            "CreationDate": iso(datetime(2023, 4, 11, 8, 0, tzinfo=UTC)),
            "LocationConstraint": None if b.region == "us-east-1" else b.region,
            "TagSet": _tag_list(b.tags),
            "StorageClassBytes": {
                "StandardStorage": int((b.standard_gb + b.growth_gb_per_day * n_days) * 2**30)
            },
        }
        if b.lifecycle_rules is not None:
            attributes["LifecycleConfiguration"] = {"Rules": b.lifecycle_rules}
        out.append(_record(b.account, b.region, rt.S3_BUCKET, b.name, b.name, attributes))
    return out


def _instances(acct: DemoAccount) -> list[dict]:
    out = []
    for inst in acct.instances:
        if not inst.gpus:
            continue
        attributes = {
            "InstanceId": inst.instance_id,
            "InstanceType": inst.instance_type,
            "ImageId": "ami-0" + stable_id("ami", inst.instance_type, length=16),
            "State": {"Code": 16, "Name": "running"},
            "LaunchTime": iso(inst.launch),
            "Placement": {"AvailabilityZone": inst.az, "Tenancy": "default"},
            "Architecture": "x86_64",
            "PlatformDetails": "Linux/UNIX",
            "EbsOptimized": True,
            "BlockDeviceMappings": [
                {
                    "DeviceName": "/dev/sda1",
                    "Ebs": {
                        "VolumeId": "vol-0" + inst.instance_id[3:],
                        "Status": "attached",
                        "AttachTime": iso(inst.launch),
                        "DeleteOnTermination": True,
                    },
                }
            ],
            "Tags": _tag_list(inst.tags),
        }
        if inst.spot:
            attributes["InstanceLifecycle"] = "spot"
            attributes["SpotInstanceRequestId"] = "sir-" + stable_id("spot", inst.instance_id, length=8)
        out.append(
            _record(
                inst.account,
                inst.region,
                rt.EC2_INSTANCE,
                f"arn:aws:ec2:{inst.region}:{inst.account}:instance/{inst.instance_id}",
                inst.instance_id,
                attributes,
            )
        )
    return out


def _alarms(acct: DemoAccount) -> list[dict]:
    out = []
    updated = iso(datetime(2024, 9, 2, 9, 0, tzinfo=UTC))
    for e in acct.endpoints:
        if e.gpu_peak_pct is None or e.deleted:
            continue
        name = f"LowGPUUtilization-{e.name}"
        alarm_arn = f"arn:aws:cloudwatch:{e.region}:{e.account}:alarm:{name}"
        # the daily mean GPU load is about 0.6 of the peak (metrics.py traffic shape)
        state = "ALARM" if e.gpu_peak_pct * 0.6 < GPU_ALARM_THRESHOLD_PCT else "OK"
        reason = (
            "Threshold Crossed: 24 datapoints were less than the threshold (20.0)."
            if state == "ALARM"
            else "Threshold Crossed: no datapoints were less than the threshold (20.0)."
        )
        attributes = {
            "AlarmName": name,
            "AlarmArn": alarm_arn,
            "AlarmDescription": f"GPU utilization of {e.name} below 20% for 24 hours",
            "AlarmConfigurationUpdatedTimestamp": updated,
            "ActionsEnabled": True,
            "OKActions": [],
            "AlarmActions": [f"arn:aws:sns:{e.region}:{e.account}:ml-cost-alerts"],
            "InsufficientDataActions": [],
            "StateValue": state,
            "StateReason": reason,
            "StateUpdatedTimestamp": updated,
            "MetricName": "GPUUtilization",
            "Namespace": "/aws/sagemaker/Endpoints",
            "Statistic": "Average",
            "Dimensions": [
                {"Name": "EndpointName", "Value": e.name},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ],
            "Period": 3600,
            "EvaluationPeriods": 24,
            "DatapointsToAlarm": 24,
            "Threshold": GPU_ALARM_THRESHOLD_PCT,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "missing",
            "StateTransitionedTimestamp": updated,
        }
        out.append(_record(e.account, e.region, rt.CLOUDWATCH_ALARM, alarm_arn, name, attributes))
    return out


def _dashboard() -> dict:
    def widget(title: str, metrics: list, x: int, y: int) -> dict:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": "us-east-1",
                "stat": "Average",
                "period": 3600,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    body = {
        "widgets": [
            widget(
                "Endpoint GPU utilization",
                [
                    [
                        "/aws/sagemaker/Endpoints",
                        "GPUUtilization",
                        "EndpointName",
                        "my-model-endpoint",
                        "VariantName",
                        "AllTraffic",
                    ]
                ],
                0,
                0,
            ),
            widget(
                "Endpoint invocations",
                [
                    [
                        "AWS/SageMaker",
                        "Invocations",
                        "EndpointName",
                        "my-model-endpoint",
                        "VariantName",
                        "AllTraffic",
                        {"stat": "Sum"},
                    ]
                ],
                12,
                0,
            ),
            widget(
                "Bedrock tokens",
                [
                    ["AWS/Bedrock", "InputTokenCount", "ModelId", "amazon.nova-lite-v1:0", {"stat": "Sum"}],
                    ["AWS/Bedrock", "OutputTokenCount", "ModelId", "amazon.nova-lite-v1:0", {"stat": "Sum"}],
                ],
                0,
                6,
            ),
            {
                "type": "metric",
                "x": 12,
                "y": 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": "Estimated charges",
                    "region": "us-east-1",
                    "stat": "Maximum",
                    "period": 21600,
                    "metrics": [["AWS/Billing", "EstimatedCharges", "Currency", "USD"]],
                },
            },
        ]
    }
    name = "AICostOptimization"
    dashboard_arn = f"arn:aws:cloudwatch::{PAYER}:dashboard/{name}"
    text = json.dumps(body, separators=(",", ":"))
    attributes = {
        "DashboardArn": dashboard_arn,
        "DashboardName": name,
        "DashboardBody": text,
        "LastModified": iso(datetime(2024, 9, 2, 9, 30, tzinfo=UTC)),
        "Size": len(text),
    }
    return _record(PAYER, "us-east-1", rt.CLOUDWATCH_DASHBOARD, dashboard_arn, name, attributes)


def _budgets(spend_usd: dict[str, float]) -> list[dict]:
    """Monthly cost budgets; ``spend_usd`` is the current month's spend per CE SERVICE name."""
    out = []
    for name, service, limit in (
        ("SageMaker-Monthly", "Amazon SageMaker", 38000.0),
        ("Bedrock-Monthly", "Amazon Bedrock", 150.0),
    ):
        actual = spend_usd.get(service, 0.0)
        attributes = {
            "BudgetName": name,
            "BudgetLimit": {"Amount": f"{limit:.1f}", "Unit": "USD"},
            "CostFilters": {"Service": [service]},
            "CostTypes": {
                "IncludeTax": True,
                "IncludeSubscription": True,
                "UseBlended": False,
                "IncludeRefund": False,
                "IncludeCredit": False,
                "IncludeUpfront": True,
                "IncludeRecurring": True,
                "IncludeOtherSubscription": True,
                "IncludeSupport": True,
                "IncludeDiscount": True,
                "UseAmortized": False,
            },
            "TimeUnit": "MONTHLY",
            "TimePeriod": {
                "Start": iso(datetime(2024, 1, 1, tzinfo=UTC)),
                "End": iso(datetime(2087, 6, 15, tzinfo=UTC)),
            },
            "CalculatedSpend": {
                "ActualSpend": {"Amount": f"{actual:.2f}", "Unit": "USD"},
                "ForecastedSpend": {"Amount": f"{actual:.2f}", "Unit": "USD"},
            },
            "BudgetType": "COST",
            "LastUpdatedTime": iso(SNAPSHOT_AT),
        }
        out.append(
            _record(PAYER, "us-east-1", rt.BUDGET, f"arn:aws:budgets::{PAYER}:budget/{name}", name, attributes)
        )
    return out


def inventory_records(acct: DemoAccount, spend_usd: dict[str, float]) -> list[dict]:
    """Every inventory record at ``SNAPSHOT_AT``; deleted endpoints are gone from it, as in AWS."""
    endpoints = [_endpoint(e) for e in acct.endpoints if e.deleted is None or e.deleted > SNAPSHOT_AT]
    return (
        endpoints
        + _notebooks(acct)
        + _studio_apps(acct)
        + _training_jobs(acct)
        + _buckets(acct)
        + _instances(acct)
        + _alarms(acct)
        + [_dashboard()]
        + _budgets(spend_usd)
    )
