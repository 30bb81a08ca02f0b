"""The GenAI stack in the taxonomy (issue 17): usage-type strings as AWS bills them (docs/genai.md names each
source), classified by the rollup's own SQL (taxonomy.classify) and through a real ingest of a CUR 2.0 file."""

from __future__ import annotations

import pytest

from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store
from aifinops.taxonomy import classify
from curfixtures import cur2_row, write_cur2

AC = {"service_code": "AmazonBedrockAgentCore"}
BR = {"service_code": "AmazonBedrock", "service_name": "Amazon Bedrock"}
SM = {"service_code": "AmazonSageMaker", "service_name": "Amazon SageMaker"}
MP = {"service_code": "AmazonBedrockFoundationModels", "billing_entity": "AWS Marketplace",
      "service_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)"}

CASES = [
    # AgentCore (product code AmazonBedrockAgentCore)
    (AC | {"usage_type": "USE1-Runtime:Consumption-based:vCPU"},
     dict(ai_service="bedrock", workload="agents", component="agentcore-runtime", token_kind="other", is_ai=True)),
    (AC | {"usage_type": "APN1-Runtime:Consumption-based:Memory"}, dict(component="agentcore-runtime")),
    (AC | {"usage_type": "USE1-Gateway:Consumption-based:API-Invocations"},
     dict(workload="agents", component="agentcore-gateway")),
    (AC | {"usage_type": "USE1-Memory:Consumption-based:Short-Term-Memory"}, dict(component="agentcore-memory")),
    (AC | {"usage_type": "USE1-Memory:Consumption-based:Long-Term-Memory-Storage:Built-in-memory"},
     dict(component="agentcore-memory")),
    (AC | {"usage_type": "USE1-Identity:Consumption-based:Token-Requests"}, dict(component="agentcore-identity")),
    (AC | {"usage_type": "USE1-CodeInterpreter:Consumption-based:vCPU"},
     dict(component="agentcore-code-interpreter")),
    (AC | {"usage_type": "USE1-SomethingNew:Consumption-based:Units"}, dict(workload="agents", component="agentcore")),
    # Knowledge bases (managed, under AgentCore; and on Bedrock) and their vector stores
    (AC | {"usage_type": "USE1-Knowledge-Base:Consumption-based:Retrieval"},
     dict(ai_service="bedrock", workload="knowledge-base", component="knowledge-base")),
    (BR | {"usage_type": "USE1-Knowledge-Base:Consumption-based:Storage"}, dict(workload="knowledge-base")),
    ({"service_code": "AmazonES", "usage_type": "USE1-SearchOCU"},
     dict(ai_service="vector-store", workload="vector-store", component="opensearch-serverless", is_ai=True)),
    ({"service_code": "AmazonES", "usage_type": "USE1-IndexingOCU"}, dict(component="opensearch-serverless")),
    ({"service_code": "AmazonES", "usage_type": "USE1-ES:m6g.large.search"}, dict(ai_service="other", is_ai=False)),
    # Guardrails, Data Automation, custom model import, customization
    (BR | {"usage_type": "USE1-Guardrail-ContentPolicyUnitsConsumed"},
     dict(workload="guardrails", component="guardrails", token_kind="other")),
    (BR | {"usage_type": "USE1-Guardrails-Text-Units"}, dict(workload="guardrails")),
    (BR | {"usage_type": "USE1-DataAutomation-Custom-PagesProcessed"},
     dict(workload="data-automation", component="data-automation")),
    (BR | {"usage_type": "USE1-Llama-CustomModelImport-Inference-v1:0"},
     dict(workload="inference", component="custom-model-import", token_kind="other")),
    (BR | {"usage_type": "USE1-NovaLite-Customization-Training"},
     dict(workload="training", component="customization", model="NovaLite")),
    (BR | {"usage_type": "USE1-NovaLite-Customization-Storage"}, dict(workload="storage", component="customization")),
    # tokens: service tiers and cache writes by lifetime
    (BR | {"usage_type": "USE1-Gemma-3-4B-IT-input-tokens-flex"},
     dict(workload="tokens", component="model-inference", inference_tier="flex", token_kind="input")),
    (BR | {"usage_type": "USE1-GPT-OSS-Safeguard-20B-input-tokens-priority"}, dict(inference_tier="priority")),
    (MP | {"usage_type": "USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units"},
     dict(token_kind="cache-write-1h", cross_region=True)),
    (MP | {"usage_type": "USE1-MP:USE1_CacheWriteInputTokenCount-Units"}, dict(token_kind="cache-write")),
    (MP | {"usage_type": "USE1-MP:USE1_cache_write_tokens_1h_global_standard-Units"},
     dict(token_kind="cache-write-1h")),
    # SageMaker HyperPod and EC2 Capacity Blocks
    (SM | {"usage_type": "USE1-Cluster:ml.p4d.24xlarge"},
     dict(ai_service="sagemaker", workload="training", component="Cluster", instance_type="ml.p4d.24xlarge",
          accelerated=True)),
    (SM | {"usage_type": "USE1-Cluster:VolumeUsage.gp2"}, dict(workload="storage")),
    ({"service_code": "AmazonEC2", "usage_type": "USE2-CapacityBlockFee:p5.48xlarge"},
     dict(ai_service="gpu-ec2", workload="compute", instance_type="p5.48xlarge", purchase_option="capacity-block")),
]


@pytest.mark.parametrize("row,expected", CASES, ids=[c[0]["usage_type"] for c in CASES])
def test_genai_usage_types(row, expected):
    (got,) = classify([row])
    assert {k: got[k] for k in expected} == expected


def test_through_the_rollup(tmp_path):
    """The same strings in a CUR 2.0 file, ingested: usage_daily carries the classification and the costs."""
    d = "2026-05-03"
    rows = [
        cur2_row("2026-05", d, "AmazonBedrockAgentCore", "USE1-Runtime:Consumption-based:vCPU", 1.79, amount=20,
                 line_item_resource_id="arn:aws:bedrock-agentcore:us-east-1:111122223333:runtime/support-agent-a1b2"),
        cur2_row("2026-05", d, "AmazonBedrockAgentCore", "USE1-Knowledge-Base:Consumption-based:Retrieval", 0.5),
        cur2_row("2026-05", d, "AmazonES", "USE1-SearchOCU", 5.76, amount=24),
        cur2_row("2026-05", d, "AmazonSageMaker", "USE1-Cluster:ml.p4d.24xlarge", 786.48, amount=24),
        cur2_row("2026-05", d, "AmazonEC2", "USE2-CapacityBlockFee:p5.48xlarge", 996.67, amount=24),
    ]
    path = write_cur2(tmp_path / "cur" / "x.parquet", rows)
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [path])
    with store.connect(read_only=True) as con:
        got = con.execute(
            "SELECT usage_type, ai_service, workload, component, purchase_option, is_ai, round(billed_cost, 2) "
            "FROM usage_daily ORDER BY usage_type").fetchall()
    assert got == [
        ("USE1-Cluster:ml.p4d.24xlarge", "sagemaker", "training", "Cluster", "on-demand", True, 786.48),
        ("USE1-Knowledge-Base:Consumption-based:Retrieval", "bedrock", "knowledge-base", "knowledge-base",
         "on-demand", True, 0.5),
        ("USE1-Runtime:Consumption-based:vCPU", "bedrock", "agents", "agentcore-runtime", "on-demand", True, 1.79),
        ("USE1-SearchOCU", "vector-store", "vector-store", "opensearch-serverless", "on-demand", True, 5.76),
        ("USE2-CapacityBlockFee:p5.48xlarge", "gpu-ec2", "compute", None, "capacity-block", True, 996.67),
    ]
