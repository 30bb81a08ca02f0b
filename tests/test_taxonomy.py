"""The AI taxonomy on the real usage-type strings of reference §1.5–1.8 (run through the rollup's SQL)."""

from __future__ import annotations

import pytest

from aifinops.taxonomy import canonical_tag_key, classify

SM = {"service_code": "AmazonSageMaker", "service_name": "Amazon SageMaker"}
BR = {"service_code": "AmazonBedrock", "service_name": "Amazon Bedrock"}
MP = {"service_code": "AmazonBedrockFoundationModels", "billing_entity": "AWS Marketplace"}

CASES = [
    # SageMaker components (§1.6)
    (
        SM | {"usage_type": "USE1-Host:ml.g5.xlarge"},
        dict(
            ai_service="sagemaker",
            workload="inference",
            component="Host",
            instance_type="ml.g5.xlarge",
            accelerated=True,
        ),
    ),
    (
        SM | {"usage_type": "USE1-Train:ml.g5.2xlarge"},
        dict(workload="training", component="Train", purchase_option="on-demand"),
    ),
    (
        SM | {"usage_type": "USE1-TrSpt:ml.p3.2xlarge"},
        dict(workload="training", component="TrSpt", purchase_option="spot", instance_family="p3"),
    ),
    (
        SM | {"usage_type": "USE1-Notebk:ml.t3.medium"},
        dict(workload="notebook", component="Notebk", instance_type="ml.t3.medium", accelerated=False),
    ),
    (
        SM | {"usage_type": "USE1-Studio:JupyterLab-ml.r6i.4xlarge"},
        dict(workload="notebook", component="Studio", instance_type="ml.r6i.4xlarge"),
    ),
    (
        SM | {"usage_type": "USE1-AsyncInf:ml.g6e.2xlarge"},
        dict(workload="inference", component="AsyncInf", instance_family="g6e", accelerated=True),
    ),
    (SM | {"usage_type": "USE1-Tsform:ml.c5.9xlarge"}, dict(workload="batch-transform", component="Tsform")),
    (
        SM | {"usage_type": "EU-Processing:ml.m5.large"},
        dict(workload="processing", component="Processing", instance_type="ml.m5.large"),
    ),
    (
        SM | {"usage_type": "USE1-ServerlessInf:Mem-3GB"},
        dict(workload="inference", component="ServerlessInf", instance_type=None),
    ),
    (SM | {"usage_type": "Host:ml.m.xlarge-HostingParent"}, dict(workload="inference", instance_type="ml.m.xlarge")),
    (SM | {"usage_type": "USE1-Host:VolumeUsage.gp2", "operation": "CreateVolume-Gp2"}, dict(workload="storage")),
    (
        SM | {"usage_type": "USE1-Host:ml.p4d.24xlarge", "line_item_type": "SavingsPlanCoveredUsage"},
        dict(purchase_option="savings-plan", instance_family="p4d", accelerated=True),
    ),
    (SM | {"usage_type": "USE1-Host:ml.p6-b200.48xlarge"}, dict(instance_family="p6-b200", accelerated=True)),
    # charges that are not usage: their own workload, never 'other'
    (SM | {"usage_type": None, "line_item_type": "Tax"}, dict(ai_service="sagemaker", workload="tax", is_ai=True)),
    (SM | {"usage_type": None, "line_item_type": "Credit"}, dict(workload="credit")),
    # Bedrock first party (§1.7)
    (
        BR | {"usage_type": "USE1-NovaLite-input-tokens"},
        dict(ai_service="bedrock", workload="tokens", model="NovaLite", token_kind="input", inference_tier="standard"),
    ),
    (
        BR | {"usage_type": "USE1-NovaPro-input-tokens-latency-optimized"},
        dict(model="NovaPro", inference_tier="latency-optimized"),
    ),
    (
        BR | {"usage_type": "USE1-Llama3-1-405B-output-tokens-batch"},
        dict(model="Llama3-1-405B", token_kind="output", inference_tier="batch"),
    ),
    (BR | {"usage_type": "USE1-Gemma-3-4B-IT-input-tokens-flex"}, dict(model="Gemma-3-4B-IT", inference_tier="flex")),
    (BR | {"usage_type": "USE1-GPT-OSS-Safeguard-20B-input-tokens-priority"}, dict(inference_tier="priority")),
    (
        BR | {"usage_type": "USE1-Nova2.0Lite-cache-read-input-token-count"},
        dict(model="Nova2.0Lite", token_kind="cache-read"),
    ),
    (BR | {"usage_type": "USE1-NovaLite-Customization-Training"}, dict(workload="training")),
    (
        {
            "service_code": "AmazonBedrockService",
            "usage_type": "USE1-Claude4Sonnet-input-tokens-cross-region-global-batch",
        },
        dict(ai_service="bedrock", model="Claude4Sonnet", inference_tier="batch", cross_region=True),
    ),
    # Bedrock through AWS Marketplace: the model is the product name
    (
        MP
        | {
            "service_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)",
            "usage_type": "USE1-MP:USE1_InputTokenCount-Units",
        },
        dict(ai_service="bedrock", model="Claude Sonnet 4.5", token_kind="input", cross_region=False),
    ),
    (
        MP
        | {
            "service_name": "Claude Haiku 4.5 (Amazon Bedrock Edition)",
            "usage_type": "USE1-MP:USE1_CacheWriteInputTokenCount-Units",
        },
        dict(token_kind="cache-write"),
    ),
    (
        MP
        | {
            "service_name": "Claude Opus 4.7 (Amazon Bedrock Edition)",
            "usage_type": "USE1-MP:USE1_output_tokens_global_standard-Units",
        },
        dict(token_kind="output", cross_region=True, model="Claude Opus 4.7"),
    ),
    (
        {
            "service_code": "prod-abc123",
            "service_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)",
            "usage_type": "USE1-MP:USE1_MillionBatchInputTokens-Units",
        },
        dict(ai_service="bedrock", inference_tier="batch"),
    ),
    # Other AI services (§1.8): Comprehend's code is lowercase
    (
        {"service_code": "comprehend", "usage_type": "USE1-Comprehend-EA"},
        dict(ai_service="comprehend", workload="inference"),
    ),
    ({"service_code": "AmazonTextract", "usage_type": "USE1-PagesforDocumentText"}, dict(ai_service="textract")),
    (
        {"service_code": "AmazonRekognition", "usage_type": "USE1-Group1-ImagesProcessed"},
        dict(ai_service="rekognition"),
    ),
    ({"service_code": "AmazonRekognition", "usage_type": "USE1-minutestrained"}, dict(workload="training")),
    ({"service_code": "transcribe", "usage_type": "USE1-TranscribeAudio"}, dict(ai_service="other-ai", is_ai=True)),
    # GPU EC2 (no region prefix in us-east-1) and non-GPU EC2
    (
        {"service_code": "AmazonEC2", "usage_type": "BoxUsage:p4d.24xlarge"},
        dict(ai_service="gpu-ec2", workload="compute", instance_type="p4d.24xlarge", purchase_option="on-demand"),
    ),
    (
        {"service_code": "AmazonEC2", "usage_type": "USW2-SpotUsage:g5.xlarge", "pricing_term": "Spot"},
        dict(ai_service="gpu-ec2", purchase_option="spot", instance_family="g5"),
    ),
    (
        {"service_code": "AmazonEC2", "usage_type": "BoxUsage:g5.12xlarge", "tags": '{"workload_type":"training"}'},
        dict(workload="training"),
    ),
    ({"service_code": "AmazonEC2", "usage_type": "BoxUsage:m5.large"}, dict(ai_service="other", is_ai=False)),
    ({"service_code": "AmazonEC2", "usage_type": "EBS:VolumeUsage.gp3"}, dict(ai_service="other")),
    # S3 storage and transfer; look-alikes are not transfer
    (
        {"service_code": "AmazonS3", "usage_type": "TimedStorage-ByteHrs"},
        dict(ai_service="s3", workload="storage", is_ai=False),
    ),
    (
        {"service_code": "AmazonS3", "usage_type": "USE1-USW2-AWS-Out-Bytes"},
        dict(ai_service="data-transfer", workload="transfer"),
    ),
    ({"service_code": "AmazonEC2", "usage_type": "DataTransfer-Out-Bytes"}, dict(ai_service="data-transfer")),
    ({"service_code": "AmazonEC2", "usage_type": "USE1-DataTransfer-Regional-Bytes"}, dict(ai_service="data-transfer")),
    ({"service_code": "AmazonCloudWatch", "usage_type": "USE1-DataProcessing-Bytes"}, dict(ai_service="other")),
    ({"service_code": "AmazonCloudWatch", "usage_type": "USE1-Ingestion-Bytes"}, dict(ai_service="other")),
]


@pytest.mark.parametrize("row, expected", CASES, ids=[c[0]["usage_type"] or c[0]["line_item_type"] for c in CASES])
def test_real_usage_types(row, expected):
    (result,) = classify([row])
    assert {k: result[k] for k in expected} == expected


def test_every_ai_service_counts_as_ai_and_others_do_not():
    results = classify([row for row, _ in CASES])
    for result in results:
        assert result["is_ai"] == (result["ai_service"] not in ("s3", "data-transfer", "other")), result


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("user:team", "team"),
        ("user_team", "team"),
        ("resourceTags/user:Cost-Center", "cost_center"),
        ("workload-type", "workload_type"),
        ("karpenter.sh/nodepool", "karpenter_sh_nodepool"),
        ("Model", "model"),
    ],
)
def test_canonical_tag_keys(raw, canonical):
    assert canonical_tag_key(raw) == canonical
