"""Bedrock ModelInvocationLog records in their real shape (the Bedrock user guide's model invocation logging
page; field names as Bedrock writes them), built for tests. Prompts are plain strings so a test can hash them."""

from __future__ import annotations

import gzip
import json

ACCOUNT = "123456789012"
ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/support-bot-role/lambda"


def converse_record(request_id: str, ts: str, system: str, user: str, *,
                    model: str = "anthropic.claude-3-haiku-20240307-v1:0", input_tokens: int = 1200,
                    output_tokens: int = 300, cache_read: int | None = 0, cache_write: int | None = 0,
                    region: str = "us-east-1", identity: str = ROLE, metadata: dict | None = None,
                    operation: str = "Converse") -> dict:
    record: dict = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": ts,
        "accountId": ACCOUNT,
        "identity": {"arn": identity},
        "region": region,
        "requestId": request_id,
        "operation": operation,
        "modelId": model,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {
                "system": [{"text": system}],
                "messages": [{"role": "user", "content": [{"text": user}]}],
                "inferenceConfig": {"maxTokens": 512, "temperature": 0.2},
            },
            "inputTokenCount": input_tokens,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": "SECRET-COMPLETION-TEXT"}]}},
                "stopReason": "end_turn", "metrics": {"latencyMs": 640},
                "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens,
                          "totalTokens": input_tokens + output_tokens},
            },
            "outputTokenCount": output_tokens,
        },
    }
    if cache_read is not None:
        record["input"]["cacheReadInputTokenCount"] = cache_read
    if cache_write is not None:
        record["input"]["cacheWriteInputTokenCount"] = cache_write
    if metadata is not None:
        record["requestMetadata"] = metadata
    return record


def invoke_record(request_id: str, ts: str, prompt: str, *, model: str, input_tokens: int, output_tokens: int,
                  inference_region: str | None = None) -> dict:
    """An InvokeModel call in the Anthropic Messages body shape (system a string, content a string)."""
    record = {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": ts, "accountId": ACCOUNT,
        "identity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/analyst"}, "region": "us-east-1",
        "requestId": request_id, "operation": "InvokeModel", "modelId": model,
        "input": {"inputContentType": "application/json",
                  "inputBodyJson": {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256,
                                    "system": "You summarise tickets.",
                                    "messages": [{"role": "user", "content": prompt}]},
                  "inputTokenCount": input_tokens},
        "output": {"outputContentType": "application/json",
                   "outputBodyJson": {"content": [{"type": "text", "text": "done"}]},
                   "outputTokenCount": output_tokens},
    }
    if inference_region:
        record["inferenceRegion"] = inference_region
    return record


def json_lines_gz(records: list[dict]) -> bytes:
    """What Bedrock puts in an S3 object: gzipped JSON, one record a line."""
    return gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records))
