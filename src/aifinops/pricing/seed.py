"""The curated price facts behind the bundled snapshot, each with its source, and the rules that expand them.

Run ``python -m aifinops.pricing.seed`` to rewrite ``data/prices.csv`` and ``data/instance_specs.csv``;
a test checks that the bundled files equal what this module builds, so facts live in one place.
Every figure names its public source in the ``source`` column (a Price List read, an AWS pricing page, a bill,
or a public price table); confidence: A = AWS-authored or a real bill, B = a public dataset or two sources
agreeing, C = a single secondary source. ``aifinops pricing refresh`` replaces these
offline facts with live Price List rows.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

# Ways of naming a SageMaker price component (Price List 'component', usage-type prefixes) → the catalog's name.
COMPONENT_ALIASES = {
    "hosting": "Hosting", "host": "Hosting", "training": "Training", "train": "Training",
    "trspt": "Training", "spottraining": "Training", "notebook": "Notebook", "notebk": "Notebook",
    "processing": "Processing", "batchtransform": "BatchTransform", "tsform": "BatchTransform",
    "asyncinf": "AsyncInf", "studio": "Studio", "studionotebook": "Studio", "studiojupyterlab": "Studio",
}

DATA_DIR = Path(__file__).parent / "data"
PRICE_COLUMNS = [
    "service_code",
    "region",
    "usage_type",
    "operation",
    "product_family",
    "attributes",
    "unit",
    "usd_per_unit",
    "source",
    "confidence",
    "fetched_at",
    "effective_from",
    "effective_to",
    "description",
]
SPEC_COLUMNS = [
    "instance_type",
    "vcpu",
    "memory_gib",
    "gpus",
    "gpu_memory_gib",
    "accelerator",
    "family",
    "generation",
    "source",
]

FMB = "aws-samples/foundation-model-benchmarking-tool fmbench/configs/pricing.yml (MIT-0)"
FMB_DATE = "2025-01-26"
VANTAGE = "tsaol/aws-gpu data/all_gpu_instances.js (from instances.vantage.sh)"
VANTAGE_DATE = "2026-01-21"
REF_DATE = "2026-11-26"
PRICE_LIST_SM = "AWS Price List API, AmazonSageMaker,"
ZINDI = "ZindiAfrica sagemaker_instance_pricing.md (+ aws-samples/sagemaker-ssh-helper eu-west-1 bill)"
READMES = "several public READMEs"
SAME_RATE_NOTE = "rate = Hosting rate (same for every component in FMB pricing.yml and the sagemaker-ssh-helper bill)"
LITELLM = "litellm 1.110.2 model_prices_and_context_window_backup.json (MIT)"
LITELLM_DATE = "2026-11-26"
BILL_EU = "aws-samples/sagemaker-ssh-helper Sample_Costs.md (real eu-west-1 bill)"
BILL_EU_DATE = "2023-12-31"
FOCUS = "FOCUS-Sample-Data focus_sample.csv AWS rows (CC BY 4.0)"
FOCUS_DATE = "2024-09-30"
# The June-2025 reduction for P4d/P4de/P5/P5en ("up to 45%", on-demand); AWS announced it in early June 2025
# with on-demand rates effective from 2025-06-01 (public announcements and 2026 articles; exact day: C).
GPU_CUT = "2025-06-01"

REGIONS = {  # region -> (usage-type prefix, Price List location)
    "us-east-1": ("USE1", "US East (N. Virginia)"),
    "us-west-2": ("USW2", "US West (Oregon)"),
    "eu-west-1": ("EU", "EU (Ireland)"),
}

# --- SageMaker ml.* Hosting $/h, us-east-1. (price, source, date, confidence) ---------------
_SM = {
    "ml.t3.medium": (0.05, ZINDI, REF_DATE, "B"),
    "ml.m5.large": (0.115, "several public SageMaker price tables", REF_DATE, "C"),
    "ml.m5.xlarge": (0.23, FMB, FMB_DATE, "A"),
    "ml.m5.2xlarge": (0.461, PRICE_LIST_SM + " USE1-Host:ml.m5.2xlarge, read 2026-09-28", REF_DATE, "C"),
    "ml.c5.xlarge": (0.204, FMB, FMB_DATE, "A"),
    "ml.c5.2xlarge": (0.408, FMB, FMB_DATE, "A"),
    "ml.c5.4xlarge": (0.816, FMB, FMB_DATE, "A"),
    "ml.c7i.xlarge": (0.214, FMB, FMB_DATE, "A"),
    "ml.g4dn.xlarge": (0.7364, FMB, FMB_DATE, "A"),
    "ml.g4dn.2xlarge": (0.94, FMB, FMB_DATE, "A"),
    "ml.g4dn.4xlarge": (1.505, FMB, FMB_DATE, "A"),
    "ml.g4dn.8xlarge": (2.72, FMB, FMB_DATE, "A"),
    "ml.g4dn.12xlarge": (4.89, FMB, FMB_DATE, "A"),
    "ml.g4dn.16xlarge": (5.44, FMB, FMB_DATE, "A"),
    "ml.g5.xlarge": (1.4084, FMB, FMB_DATE, "A"),
    "ml.g5.2xlarge": (1.515, FMB, FMB_DATE, "A"),
    "ml.g5.4xlarge": (2.03, FMB, FMB_DATE, "A"),
    "ml.g5.8xlarge": (3.06, FMB, FMB_DATE, "A"),
    "ml.g5.12xlarge": (7.09, FMB, FMB_DATE, "A"),
    "ml.g5.16xlarge": (5.12, "ZindiAfrica sagemaker_instance_pricing.md", REF_DATE, "B"),
    "ml.g5.24xlarge": (10.18, FMB, FMB_DATE, "A"),
    "ml.g5.48xlarge": (20.36, FMB, FMB_DATE, "A"),
    "ml.g6.xlarge": (1.127, "public price table read 2026-09-27 (conflicts with 0.9765 elsewhere)", REF_DATE, "C"),
    "ml.g6.2xlarge": (1.222, FMB, FMB_DATE, "A"),
    "ml.g6.12xlarge": (5.752, FMB, FMB_DATE, "A"),
    "ml.g6.16xlarge": (4.246, FMB, FMB_DATE, "A"),
    "ml.g6.24xlarge": (8.344, FMB, FMB_DATE, "A"),
    "ml.g6.48xlarge": (16.688, FMB, FMB_DATE, "A"),
    "ml.g6e.xlarge": (2.61, "EC2 1.861 (instances.vantage.sh) x 1.40 SageMaker markup", REF_DATE, "C"),
    "ml.g6e.2xlarge": (2.8026, PRICE_LIST_SM + " USE1-Host, USE1-AsyncInf, publication 2026-09-20", REF_DATE, "C"),
    "ml.inf2.xlarge": (0.99, FMB, FMB_DATE, "A"),
    "ml.inf2.8xlarge": (2.36, FMB, FMB_DATE, "A"),
    "ml.inf2.24xlarge": (7.79, FMB, FMB_DATE, "A"),
    "ml.inf2.48xlarge": (15.58, FMB, FMB_DATE, "A"),
    "ml.trn1.2xlarge": (1.54, "EC2 rate (instances.vantage.sh) x 1.15 SageMaker ratio", REF_DATE, "C"),
    "ml.trn1.32xlarge": (28.497, FMB + "; 24.73 in another source, unresolved", FMB_DATE, "C"),
    "ml.p3.2xlarge": (3.825, FMB, FMB_DATE, "A"),
    "ml.p3.8xlarge": (14.688, "goerlitz/nlp-classification sagemaker README", REF_DATE, "C"),
    "ml.p3.16xlarge": (28.152, "goerlitz/nlp-classification sagemaker README", REF_DATE, "C"),
    "ml.p4d.24xlarge": (
        25.2513,
        "two public sources + exact 1.15 x EC2 ratio (post June-2025)",
        REF_DATE,
        "B",
    ),
    "ml.p4de.24xlarge": (31.5641, "1.15 x EC2 rate (instances.vantage.sh) (post June-2025)", REF_DATE, "B"),
    "ml.p5.4xlarge": (7.912, "1.15 x EC2 rate (instances.vantage.sh)", REF_DATE, "B"),
    "ml.p5.48xlarge": (63.296, "1.15 x EC2 rate (instances.vantage.sh) (post June-2025)", REF_DATE, "B"),
}
# Pre-cut SageMaker rates that 2024 bills used (FMB pricing.yml, Jan 2025).
_SM_BEFORE_CUT = {"ml.p4d.24xlarge": (37.688, FMB, FMB_DATE, "A"), "ml.p5.48xlarge": (113.068, FMB, FMB_DATE, "A")}
_CUT_FAMILIES = ("p4d", "p4de", "p5", "p5en")
# eu-west-1 bill lines, December 2023 (aws-samples/sagemaker-ssh-helper Sample_Costs.md): component -> {instance: $/h}.
_SM_EU = {
    "Hosting": {
        "ml.m5.xlarge": 0.257,
        "ml.g5.xlarge": 1.57,
        "ml.g4dn.4xlarge": 1.678,
        "ml.p3.2xlarge": 4.131,
        "ml.g4dn.12xlarge": 5.453,
        "ml.g5.12xlarge": 7.91,
        "ml.g4dn.xlarge": 0.822,
    },
    "Training": {"ml.g4dn.xlarge": 0.822, "ml.m5.xlarge": 0.257},
    "Processing": {"ml.m5.xlarge": 0.257},
    "BatchTransform": {"ml.m5.xlarge": 0.257},
    "Notebook": {"ml.t3.medium": 0.055},
    "Studio": {"ml.m5.large": 0.128},
}
# Price List component -> usage-type component (component names: ec2instances.info sagemaker.py). Rates are the
# Hosting rate for every component in each source that lists several (FMB, the eu-west-1 bill); Studio follows
# the Notebook rate.
SM_COMPONENTS = {
    "Hosting": "Host", "Training": "Train", "Notebook": "Notebk", "Processing": "Processing",
    "BatchTransform": "Tsform", "AsyncInf": "AsyncInf", "Studio": "Studio",
}
_NOTEBOOK_TYPES = ("ml.t3", "ml.m5", "ml.c5", "ml.g4dn", "ml.g5", "ml.g6", "ml.p3")

# --- EC2 Linux on-demand $/h, us-east-1 = us-west-2 (instances.vantage.sh via tsaol/aws-gpu) ---------
_EC2 = {
    "g4dn.xlarge": 0.526, "g4dn.2xlarge": 0.752, "g4dn.12xlarge": 3.912, "g5.xlarge": 1.006, "g5.2xlarge": 1.212,
    "g5.4xlarge": 1.624, "g5.12xlarge": 5.672, "g5.48xlarge": 16.288, "g6.xlarge": 0.8048, "g6.2xlarge": 0.9776,
    "g6.12xlarge": 4.6016, "g6.48xlarge": 13.3504, "g6e.xlarge": 1.861, "g6e.12xlarge": 10.49264,
    "g6e.48xlarge": 30.13118, "p3.2xlarge": 3.06, "p3.8xlarge": 12.24, "p3.16xlarge": 24.48,
    "p4d.24xlarge": 21.957642, "p4de.24xlarge": 27.44705, "p5.4xlarge": 6.88, "p5.48xlarge": 55.04,
    "p5en.48xlarge": 63.296, "p6-b200.48xlarge": 113.9328, "inf2.xlarge": 0.7582, "inf2.8xlarge": 1.96786,
    "inf2.48xlarge": 12.98127, "trn1.2xlarge": 1.34375, "trn1.32xlarge": 21.5,
}
_EC2_BEFORE_CUT = {"p4d.24xlarge": 32.7726, "p5.48xlarge": 98.32}  # pre-June-2025 values still common in public code
# CPU types: common public list prices (C); c5.2xlarge confirmed by the FOCUS sample 2024-09.
_EC2_CPU = {
    "t3.medium": 0.0416, "m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m5.4xlarge": 0.768,
    "c5.large": 0.085, "c5.xlarge": 0.17, "c5.2xlarge": 0.34, "c5.4xlarge": 0.68, "r5.4xlarge": 1.008,
}

# --- Instance specs: AWS instance-type pages (public specs); GPU memory is the total over all GPUs ------
SPEC_SOURCE = "aws.amazon.com/ec2/instance-types accelerated-computing specs (public), B"
_SPECS = [  # type, vcpu, memory GiB, gpus, gpu memory GiB total, accelerator, generation
    ("t3.medium", 2, 4, 0, 0, "", "current"), ("m5.large", 2, 8, 0, 0, "", "current"),
    ("m5.xlarge", 4, 16, 0, 0, "", "current"), ("m5.2xlarge", 8, 32, 0, 0, "", "current"),
    ("m5.4xlarge", 16, 64, 0, 0, "", "current"), ("c5.large", 2, 4, 0, 0, "", "current"),
    ("c5.xlarge", 4, 8, 0, 0, "", "current"), ("c5.2xlarge", 8, 16, 0, 0, "", "current"),
    ("c5.4xlarge", 16, 32, 0, 0, "", "current"), ("c7i.xlarge", 4, 8, 0, 0, "", "current"),
    ("r5.4xlarge", 16, 128, 0, 0, "", "current"), ("g4dn.xlarge", 4, 16, 1, 16, "NVIDIA T4", "current"),
    ("g4dn.2xlarge", 8, 32, 1, 16, "NVIDIA T4", "current"), ("g4dn.4xlarge", 16, 64, 1, 16, "NVIDIA T4", "current"),
    ("g4dn.8xlarge", 32, 128, 1, 16, "NVIDIA T4", "current"),
    ("g4dn.12xlarge", 48, 192, 4, 64, "NVIDIA T4", "current"),
    ("g4dn.16xlarge", 64, 256, 1, 16, "NVIDIA T4", "current"),
    ("g4dn.metal", 96, 384, 8, 128, "NVIDIA T4", "current"), ("g5.xlarge", 4, 16, 1, 24, "NVIDIA A10G", "current"),
    ("g5.2xlarge", 8, 32, 1, 24, "NVIDIA A10G", "current"), ("g5.4xlarge", 16, 64, 1, 24, "NVIDIA A10G", "current"),
    ("g5.8xlarge", 32, 128, 1, 24, "NVIDIA A10G", "current"),
    ("g5.12xlarge", 48, 192, 4, 96, "NVIDIA A10G", "current"),
    ("g5.16xlarge", 64, 256, 1, 24, "NVIDIA A10G", "current"),
    ("g5.24xlarge", 96, 384, 4, 96, "NVIDIA A10G", "current"),
    ("g5.48xlarge", 192, 768, 8, 192, "NVIDIA A10G", "current"), ("g6.xlarge", 4, 16, 1, 24, "NVIDIA L4", "current"),
    ("g6.2xlarge", 8, 32, 1, 24, "NVIDIA L4", "current"), ("g6.4xlarge", 16, 64, 1, 24, "NVIDIA L4", "current"),
    ("g6.8xlarge", 32, 128, 1, 24, "NVIDIA L4", "current"), ("g6.12xlarge", 48, 192, 4, 96, "NVIDIA L4", "current"),
    ("g6.16xlarge", 64, 256, 1, 24, "NVIDIA L4", "current"), ("g6.24xlarge", 96, 384, 4, 96, "NVIDIA L4", "current"),
    ("g6.48xlarge", 192, 768, 8, 192, "NVIDIA L4", "current"), ("g6e.xlarge", 4, 32, 1, 48, "NVIDIA L40S", "current"),
    ("g6e.2xlarge", 8, 64, 1, 48, "NVIDIA L40S", "current"),
    ("g6e.4xlarge", 16, 128, 1, 48, "NVIDIA L40S", "current"),
    ("g6e.8xlarge", 32, 256, 1, 48, "NVIDIA L40S", "current"),
    ("g6e.12xlarge", 48, 384, 4, 192, "NVIDIA L40S", "current"),
    ("g6e.16xlarge", 64, 512, 1, 48, "NVIDIA L40S", "current"),
    ("g6e.24xlarge", 96, 768, 4, 192, "NVIDIA L40S", "current"),
    ("g6e.48xlarge", 192, 1536, 8, 384, "NVIDIA L40S", "current"),
    ("p3.2xlarge", 8, 61, 1, 16, "NVIDIA V100", "previous"),
    ("p3.8xlarge", 32, 244, 4, 64, "NVIDIA V100", "previous"),
    ("p3.16xlarge", 64, 488, 8, 128, "NVIDIA V100", "previous"),
    ("p3dn.24xlarge", 96, 768, 8, 256, "NVIDIA V100 32GB", "previous"),
    ("p4d.24xlarge", 96, 1152, 8, 320, "NVIDIA A100", "current"),
    ("p4de.24xlarge", 96, 1152, 8, 640, "NVIDIA A100 80GB", "current"),
    ("p5.4xlarge", 16, 256, 1, 80, "NVIDIA H100", "current"),
    ("p5.48xlarge", 192, 2048, 8, 640, "NVIDIA H100", "current"),
    ("p5e.48xlarge", 192, 2048, 8, 1128, "NVIDIA H200", "current"),
    ("p5en.48xlarge", 192, 2048, 8, 1128, "NVIDIA H200", "current"),
    ("p6-b200.48xlarge", 192, 2048, 8, 1440, "NVIDIA B200", "current"),
    ("inf2.xlarge", 4, 16, 1, 32, "AWS Inferentia2", "current"),
    ("inf2.8xlarge", 32, 128, 1, 32, "AWS Inferentia2", "current"),
    ("inf2.24xlarge", 96, 384, 6, 192, "AWS Inferentia2", "current"),
    ("inf2.48xlarge", 192, 768, 12, 384, "AWS Inferentia2", "current"),
    ("trn1.2xlarge", 8, 32, 1, 32, "AWS Trainium", "current"),
    ("trn1.32xlarge", 128, 512, 16, 512, "AWS Trainium", "current"),
]

# --- Bedrock, us-east-1, USD per 1M tokens (litellm 1.110.2 unless the source says otherwise) -
# name: (usage-type token or '', Bedrock model id, provider, input, output, cache read, cache write 5 min,
#        batch available, {tier: (input, output)} for flex/priority, geo premium, source, offer)
# Batch = 50 % of on-demand (AWS docs, A) where the model offers batch. Geo profiles (us./eu./apac.) cost
# 1.1x for Claude Sonnet 4.5 and later (litellm us.* entries; one July-2026 bill agrees); older models same price.
BEDROCK_FIRST_PARTY = "AmazonBedrock"
BEDROCK_MARKETPLACE = "AmazonBedrockFoundationModels"
_BR = {
    "Nova Micro": ("NovaMicro", "amazon.nova-micro-v1:0", "Amazon", 0.035, 0.14, 0.00875, 0.0, True, {}, False),
    "Nova Lite": ("NovaLite", "amazon.nova-lite-v1:0", "Amazon", 0.06, 0.24, 0.015, 0.0, True, {}, False),
    "Nova Pro": ("NovaPro", "amazon.nova-pro-v1:0", "Amazon", 0.8, 3.2, 0.2, 0.0, True,
                 {"flex": (0.4, 1.6), "priority": (1.4, 5.6)}, False),
    "Nova Premier": ("NovaPremier", "amazon.nova-premier-v1:0", "Amazon", 2.5, 12.5, 0.625, 0.0, True,
                     {"priority": (4.375, 21.875)}, False),
    "Nova 2 Lite": ("Nova2.0Lite", "amazon.nova-2-lite-v1:0", "Amazon", 0.3, 2.5, 0.075, 0.0, True,
                    {"priority": (0.525, 4.375)}, False),
    "Claude 3 Haiku": ("Claude3Haiku", "anthropic.claude-3-haiku-20240307-v1:0", "Anthropic", 0.25, 1.25, None, None,
                       True, {}, False),
    "Claude 3.5 Haiku": ("", "anthropic.claude-3-5-haiku-20241022-v1:0", "Anthropic", 0.8, 4.0, 0.08, 1.0, False, {},
                         False),
    "Claude Haiku 4.5": ("", "anthropic.claude-haiku-4-5-20251001-v1:0", "Anthropic", 1.0, 5.0, 0.1, 1.25, True, {},
                         True),
    "Claude 3 Sonnet": ("Claude3Sonnet", "anthropic.claude-3-sonnet-20240229-v1:0", "Anthropic", 3.0, 15.0, None,
                        None, True, {}, False),
    "Claude 3.5 Sonnet": ("", "anthropic.claude-3-5-sonnet-20240620-v1:0", "Anthropic", 3.0, 15.0, 0.3, 3.75, True,
                          {}, False),
    "Claude 3.5 Sonnet v2": ("", "anthropic.claude-3-5-sonnet-20241022-v2:0", "Anthropic", 3.0, 15.0, 0.3, 3.75, True,
                             {}, False),
    "Claude 3.7 Sonnet": ("", "anthropic.claude-3-7-sonnet-20250219-v1:0", "Anthropic", 3.0, 15.0, 0.3, 3.75, True,
                          {}, False),
    "Claude Sonnet 4": ("Claude4Sonnet", "anthropic.claude-sonnet-4-20250514-v1:0", "Anthropic", 3.0, 15.0, 0.3, 3.75,
                        True, {}, False),
    "Claude Sonnet 4.5": ("", "anthropic.claude-sonnet-4-5-20250929-v1:0", "Anthropic", 3.0, 15.0, 0.3, 3.75, True,
                          {}, True),
    "Claude 3 Opus": ("", "anthropic.claude-3-opus-20240229-v1:0", "Anthropic", 15.0, 75.0, 1.5, 18.75, False, {},
                      False),
    "Claude Opus 4": ("", "anthropic.claude-opus-4-20250514-v1:0", "Anthropic", 15.0, 75.0, 1.5, 18.75, False, {},
                      False),
    "Claude Opus 4.1": ("", "anthropic.claude-opus-4-1-20250805-v1:0", "Anthropic", 15.0, 75.0, 1.5, 18.75, False, {},
                        False),
    "Claude Opus 4.5": ("", "anthropic.claude-opus-4-5-20251101-v1:0", "Anthropic", 5.0, 25.0, 0.5, 6.25, False, {},
                        True),
    "Llama 3.1 8B": ("", "meta.llama3-1-8b-instruct-v1:0", "Meta", 0.22, 0.22, None, None, True, {}, False),
    "Llama 3.1 70B": ("", "meta.llama3-1-70b-instruct-v1:0", "Meta", 0.72, 0.72, None, None, True, {}, False),
    "Llama 3.1 405B": ("Llama3-1-405B", "meta.llama3-1-405b-instruct-v1:0", "Meta", 2.4, 2.4, None, None, False, {},
                       False),
    "Llama 3.3 70B": ("", "meta.llama3-3-70b-instruct-v1:0", "Meta", 0.72, 0.72, None, None, True, {}, False),
    "Llama 4 Scout 17B": ("", "meta.llama4-scout-17b-instruct-v1:0", "Meta", 0.17, 0.66, None, None, True, {}, False),
    "Llama 4 Maverick 17B": ("", "meta.llama4-maverick-17b-instruct-v1:0", "Meta", 0.24, 0.97, None, None, True, {},
                             False),
    "Titan Text Lite": ("", "amazon.titan-text-lite-v1", "Amazon", 0.15, 0.2, None, None, False, {}, False),
    "Titan Text Express": ("", "amazon.titan-text-express-v1", "Amazon", 0.2, 0.6, None, None, False, {}, False),
    "Titan Text Premier": ("", "amazon.titan-text-premier-v1:0", "Amazon", 0.5, 1.5, None, None, False, {}, False),
    "Titan Embeddings V2": ("TitanEmbeddingV2-Text", "amazon.titan-embed-text-v2:0", "Amazon", 0.02, None, None, None,
                            True, {}, False),
    "Titan Embeddings G1": ("", "amazon.titan-embed-text-v1", "Amazon", 0.1, None, None, None, False, {}, False),
    "Mistral 7B": ("", "mistral.mistral-7b-instruct-v0:2", "Mistral AI", 0.15, 0.2, None, None, False, {}, False),
    "Mixtral 8x7B": ("", "mistral.mixtral-8x7b-instruct-v0:1", "Mistral AI", 0.45, 0.7, None, None, False, {}, False),
    "Mistral Small": ("MistralSmall", "mistral.mistral-small-2402-v1:0", "Mistral AI", 1.0, 3.0, None, None, True, {},
                      False),
    "Mistral Large": ("", "mistral.mistral-large-2402-v1:0", "Mistral AI", 4.0, 12.0, None, None, False, {}, False),
    "Cohere Command R+": ("", "cohere.command-r-plus-v1:0", "Cohere", 3.0, 15.0, None, None, False, {}, False),
    "Cohere Embed English v3": ("", "cohere.embed-english-v3", "Cohere", 0.1, None, None, None, False, {}, False),
    "DeepSeek R1": ("", "deepseek.r1-v1:0", "DeepSeek", 1.35, 5.4, None, None, False, {}, False),
    "gpt-oss-120b": ("", "openai.gpt-oss-120b-1:0", "OpenAI", 0.15, 0.6, None, None, True,
                     {"flex": (0.075, 0.3), "priority": (0.2625, 1.05)}, False),
    "gpt-oss-20b": ("", "openai.gpt-oss-20b-1:0", "OpenAI", 0.07, 0.3, None, None, True,
                    {"flex": (0.035, 0.15), "priority": (0.1225, 0.525)}, False),
}
# Not in the litellm subset: taken from FMB pricing.yml (AWS-authored, Jan 2025).
_BR_FROM_FMB = {"Claude 3 Haiku", "Claude 3 Sonnet", "Cohere Command R+"}
# Claude models billed through AWS Marketplace (product "<name> (Amazon Bedrock Edition)", 1M-token unit;
# AWS Price List offer AmazonBedrockFoundationModels).
_MARKETPLACE = {"Claude Haiku 4.5", "Claude Sonnet 4.5", "Claude Opus 4.5"}
# Marketplace usage-type suffixes (Price List AmazonBedrockFoundationModels, camel grammar) per token kind / routing.
_MP_USAGE = {
    ("input", "in-region", "standard"): "InputTokenCount", ("output", "in-region", "standard"): "OutputTokenCount",
    ("input", "global", "standard"): "InputTokenCount_Global",
    ("cache-read", "in-region", "standard"): "CacheReadInputTokenCount",
    ("cache-write", "in-region", "standard"): "CacheWriteInputTokenCount",
    ("input", "in-region", "batch"): "MillionBatchInputTokens",
}
GEO_PREMIUM = 1.1

# --- S3, transfer, other AI services (us-east-1; us-west-2 equal for S3/transfer, C) ----------------------
COSTNIMBUS = "costnimbus.com S3 pricing Mar-2026"
_S3 = [  # storage class (S3 API name), Price List volumeType, usage type (no region prefix), $/GB-mo, source, conf
    ("STANDARD", "Standard", "TimedStorage-ByteHrs", 0.023, FOCUS + ' "$0.023 per GB - first 50 TB"', "A"),
    (
        "INTELLIGENT_TIERING",
        "Intelligent-Tiering Frequent Access",
        "TimedStorage-INT-FA-ByteHrs",
        0.023,
        COSTNIMBUS,
        "C",
    ),
    (
        "INTELLIGENT_TIERING_IA",
        "Intelligent-Tiering Infrequent Access",
        "TimedStorage-INT-IA-ByteHrs",
        0.0125,
        COSTNIMBUS,
        "C",
    ),
    (
        "INTELLIGENT_TIERING_AIA",
        "Intelligent-Tiering Archive Instant Access",
        "TimedStorage-INT-AIA-ByteHrs",
        0.004,
        COSTNIMBUS,
        "C",
    ),
    ("STANDARD_IA", "Standard - Infrequent Access", "TimedStorage-SIA-ByteHrs", 0.0125, COSTNIMBUS, "C"),
    ("ONEZONE_IA", "One Zone - Infrequent Access", "TimedStorage-ZIA-ByteHrs", 0.01, COSTNIMBUS, "C"),
    ("GLACIER_IR", "Glacier Instant Retrieval", "TimedStorage-GIR-ByteHrs", 0.004, COSTNIMBUS, "C"),
    ("GLACIER", "Amazon Glacier", "TimedStorage-GlacierByteHrs", 0.0036, COSTNIMBUS, "C"),
    ("DEEP_ARCHIVE", "Glacier Deep Archive", "TimedStorage-GDA-ByteHrs", 0.00099, COSTNIMBUS, "C"),
]
_S3_REQUESTS = [
    ("tier1", "Requests-Tier1", 0.005 / 1000, "PUT, COPY, POST, LIST"),
    ("tier2", "Requests-Tier2", 0.0004 / 1000, "GET and all other requests"),
]
_TRANSFER = [  # kind, usage type (no prefix; {R} = region prefix), $/GB, description, source, conf
    (
        "internet-out",
        "DataTransfer-Out-Bytes",
        0.09,
        "out to the internet, first 10 TB/month (first 100 GB free)",
        FOCUS,
        "A",
    ),
    ("inter-region", "{R}-{R2}-AWS-Out-Bytes", 0.02, "out to another AWS region (US/EU), inbound free", FOCUS, "A"),
    ("cross-az", "DataTransfer-Regional-Bytes", 0.01, "between AZs in one region, each direction", FOCUS, "A"),
    ("nat-gateway", "NatGateway-Bytes", 0.045, "processed by a NAT gateway (plus $0.045/h)", FOCUS, "A"),
    ("to-cloudfront", "CloudFront-Out-Bytes", 0.0, "from S3/EC2 to CloudFront: no charge", FOCUS, "A"),
    ("sagemaker-endpoint-data", "", 0.016, "SageMaker endpoint data processed IN/OUT (eu-west-1 bill)", BILL_EU, "A"),
]
_AI_SERVICES = [  # service code, usage type, unit, $/unit, description, source, conf
    (
        "comprehend",
        "Comprehend-EA",
        "unit",
        0.0001,
        "NLP entities, 1 unit = 100 chars, min 3 units per request",
        "aws.amazon.com/comprehend/pricing",
        "A",
    ),
    (
        "comprehend",
        "Comprehend-SA",
        "unit",
        0.0001,
        "NLP sentiment, 1 unit = 100 chars, min 3 units per request",
        "aws.amazon.com/comprehend/pricing",
        "A",
    ),
    (
        "comprehend",
        "Comprehend-KP",
        "unit",
        0.0001,
        "NLP key phrases, 1 unit = 100 chars, min 3 units",
        "aws.amazon.com/comprehend/pricing",
        "A",
    ),
    (
        "comprehend",
        "Comprehend-LD",
        "unit",
        0.0001,
        "NLP language detection, 1 unit = 100 chars, min 3 units",
        "aws.amazon.com/comprehend/pricing",
        "A",
    ),
    (
        "comprehend",
        "DetectPiiEntities",
        "unit",
        0.0001,
        "PII detection, 1 unit = 100 chars, min 3 units",
        "aws.amazon.com/comprehend/pricing",
        "A",
    ),
    ("comprehend", "", "hour", 3.0, "custom model training", "aws.amazon.com/comprehend/pricing (de)", "A"),
    (
        "comprehend",
        "",
        "IU-second",
        0.0005,
        "custom real-time endpoint per inference unit-second, billed while up",
        "aws.amazon.com/comprehend/pricing (de)",
        "A",
    ),
    (
        "AmazonTextract",
        "PagesforDocumentText",
        "page",
        1.50 / 1000,
        "DetectDocumentText, first 1M pages/month",
        "enoch3712/ExtractThinker docs/examples/aws-stack.md",
        "C",
    ),
    (
        "AmazonTextract",
        "PagesforAnalyzeDocTables",
        "page",
        15.0 / 1000,
        "AnalyzeDocument Tables, first 1M pages",
        "enoch3712/ExtractThinker docs/examples/aws-stack.md",
        "C",
    ),
    (
        "AmazonTextract",
        "PagesforAnalyzeDocForms",
        "page",
        50.0 / 1000,
        "AnalyzeDocument Forms",
        READMES,
        "C",
    ),
    (
        "AmazonTextract",
        "PagesforAnalyzeDocQueries",
        "page",
        15.0 / 1000,
        "AnalyzeDocument Queries (~)",
        READMES,
        "C",
    ),
    ("AmazonTextract", "PagesForLayout", "page", 4.0 / 1000, "AnalyzeDocument Layout (~)", READMES, "C"),
    ("AmazonTextract", "PagesforAnalyzeExpense", "page", 10.0 / 1000, "AnalyzeExpense (~)", READMES, "C"),
    (
        "AmazonRekognition",
        "Group1-ImagesProcessed",
        "image",
        1.00 / 1000,
        "Image Group 1 APIs, first 1M/month",
        "santoshmn26/AWS-Rekognition README",
        "C",
    ),
    (
        "AmazonRekognition",
        "Group2-ImagesProcessed",
        "image",
        1.00 / 1000,
        "Image Group 2 APIs, first 1M/month",
        "santoshmn26/AWS-Rekognition README",
        "C",
    ),
    (
        "AmazonRekognition",
        "FaceVectorsStored",
        "face-month",
        0.00001,
        "face metadata storage",
        "santoshmn26/AWS-Rekognition README",
        "C",
    ),
    (
        "AmazonRekognition",
        "MinutesOfVideoProcessed",
        "minute",
        0.10,
        "stored video analysis",
        "santoshmn26/AWS-Rekognition README",
        "C",
    ),
    (
        "AmazonRekognition",
        "MinsOfLiveVideoProcessed",
        "minute",
        0.12,
        "streaming video analysis",
        "santoshmn26/AWS-Rekognition README",
        "C",
    ),
]
# AWS Price List: "$0.0000200 per GB-second" (USE1-ServerlessInf:Mem-3GB = $0.00006/s), C
SERVERLESS_USD_PER_GB_S = 0.00002
# Spot planning range (Amazon EC2 Spot page: "up to 90%"; fixtures 60-70 % off, public tables assume Spot
# ~30 % of on-demand).
SPOT_DISCOUNT = (
    0.60,
    0.70,
    0.90,
    "Amazon EC2 Spot Instances page: 'up to 90%' (A); planning 60-70% off (public tables, C)",
    "C",
)


def price_row(
    service_code,
    region,
    usage_type,
    attributes,
    unit,
    usd,
    source,
    confidence,
    fetched_at,
    *,
    operation="",
    product_family="",
    effective_from="",
    effective_to="",
    description="",
):
    return {
        "service_code": service_code,
        "region": region,
        "usage_type": usage_type,
        "operation": operation,
        "product_family": product_family,
        "attributes": json.dumps(attributes, sort_keys=True),
        "unit": unit,
        "usd_per_unit": repr(float(usd)),
        "source": source,
        "confidence": confidence,
        "fetched_at": fetched_at,
        "effective_from": effective_from,
        "effective_to": effective_to,
        "description": description,
    }


def _family(instance_type: str) -> str:
    return instance_type.removeprefix("ml.").split(".")[0]


def _sagemaker_rows() -> list[dict]:
    rows = []
    for region in ("us-east-1", "us-west-2"):
        prefix, location = REGIONS[region]
        for itype, (usd, source, date, conf) in _SM.items():
            cut = _family(itype) in _CUT_FAMILIES
            history = _SM_BEFORE_CUT.get(itype)
            for component, ut_comp in SM_COMPONENTS.items():
                if component in ("Notebook", "Studio") and not itype.startswith(_NOTEBOOK_TYPES):
                    continue
                derived = component != "Hosting"
                conf_here = "C" if region != "us-east-1" else ("B" if derived and conf == "A" else conf)
                note = [] if not derived else [SAME_RATE_NOTE]
                if region != "us-east-1":
                    note.append("assumed = us-east-1 (equal for EC2 GPU types; not verified for SageMaker)")
                usage_type = (
                    f"{prefix}-Studio:JupyterLab-{itype}" if component == "Studio" else f"{prefix}-{ut_comp}:{itype}"
                )
                attrs = {"instance_type": itype, "component": component}
                desc = f"${usd} per {component} {itype} hour in {location}"
                for price, src, dt, cf, eff_from, eff_to in [
                    (usd, source, date, conf_here, GPU_CUT if cut else "", "")
                ] + (
                    [
                        (
                            history[0],
                            history[1],
                            history[2],
                            "C" if region != "us-east-1" else ("B" if derived else history[3]),
                            "",
                            GPU_CUT,
                        )
                    ]
                    if history
                    else []
                ):
                    rows.append(
                        price_row(
                            "AmazonSageMaker",
                            region,
                            usage_type,
                            attrs,
                            "Hrs",
                            price,
                            "; ".join([src, *note]),
                            cf,
                            dt,
                            operation="RunInstance",
                            product_family="ML Instance",
                            effective_from=eff_from,
                            effective_to=eff_to,
                            description=desc.replace(f"${usd}", f"${price}"),
                        )
                    )
    for component, prices in _SM_EU.items():
        for itype, usd in prices.items():
            ut_comp = SM_COMPONENTS[component]
            usage_type = f"EU-Studio:Studio-Notebook-{itype}" if component == "Studio" else f"EU-{ut_comp}:{itype}"
            rows.append(
                price_row(
                    "AmazonSageMaker",
                    "eu-west-1",
                    usage_type,
                    {"instance_type": itype, "component": component},
                    "Hrs",
                    usd,
                    BILL_EU,
                    "A",
                    BILL_EU_DATE,
                    operation="RunInstance",
                    product_family="ML Instance",
                    description=f"${usd} per {component} {itype} hour in EU (Ireland)",
                )
            )
    for region in ("us-east-1", "us-west-2"):
        prefix, location = REGIONS[region]
        for mem in range(1, 7):
            usd = round(SERVERLESS_USD_PER_GB_S * mem, 10)
            rows.append(
                price_row(
                    "AmazonSageMaker",
                    region,
                    f"{prefix}-ServerlessInf:Mem-{mem}GB",
                    {"component": "ServerlessInf", "memory_gb": mem},
                    "second",
                    usd,
                    PRICE_LIST_SM + " USE1-ServerlessInf:Mem-3GB $0.00006/s = $0.00002 per GB-second "
                    "(+ public code tables)"
                    + ("" if region == "us-east-1" else "; assumed = us-east-1"),
                    "C",
                    REF_DATE,
                    operation="RunInstance",
                    product_family="ML Serverless",
                    description=f"${usd:.5f} per second of {mem} GB serverless inference in {location}",
                )
            )
        rows.append(
            price_row(
                "AmazonSageMaker",
                region,
                "",
                {"kind": "ml-storage"},
                "GB-Mo",
                0.14,
                "public ML storage list price, us-east-1 (C)",
                "C",
                REF_DATE,
                operation="CreateVolume-Gp2",
                product_family="ML Storage",
                description="ML storage for notebook/endpoint/training volumes per GB-month",
            )
        )
    rows.append(
        price_row(
            "AmazonSageMaker",
            "eu-west-1",
            "",
            {"kind": "ml-storage"},
            "GB-Mo",
            0.154,
            BILL_EU,
            "A",
            BILL_EU_DATE,
            operation="CreateVolume-Gp2",
            product_family="ML Storage",
            description="$0.154 per GB-Mo of Endpoint/Notebook/Training Job ML storage",
        )
    )
    return rows


def _ec2_rows() -> list[dict]:
    rows = []
    for region in ("us-east-1", "us-west-2"):
        prefix = "" if region == "us-east-1" else REGIONS[region][0] + "-"
        for itype, usd in {**_EC2, **_EC2_CPU}.items():
            gpu = itype in _EC2
            source = VANTAGE if gpu else "common public list price (C)"
            versions = [
                (
                    usd,
                    source,
                    VANTAGE_DATE if gpu else REF_DATE,
                    "B" if gpu else "C",
                    GPU_CUT if _family(itype) in _CUT_FAMILIES else "",
                    "",
                )
            ]
            if itype in _EC2_BEFORE_CUT:
                versions.append(
                    (
                        _EC2_BEFORE_CUT[itype],
                        "pre-June-2025 value (FMB pricing.yml and other public code of that time)",
                        FMB_DATE,
                        "B",
                        "",
                        GPU_CUT,
                    )
                )
            for price, src, dt, cf, eff_from, eff_to in versions:
                rows.append(
                    price_row(
                        "AmazonEC2",
                        region,
                        f"{prefix}BoxUsage:{itype}",
                        {"instance_type": itype, "operating_system": "Linux", "tenancy": "Shared"},
                        "Hrs",
                        price,
                        src,
                        cf,
                        dt,
                        operation="RunInstances",
                        product_family="Compute Instance",
                        effective_from=eff_from,
                        effective_to=eff_to,
                        description=f"${price} per On Demand Linux {itype} Instance Hour",
                    )
                )
        rows.append(
            price_row(
                "AmazonEC2",
                region,
                f"{prefix}EBS:VolumeUsage.gp3",
                {"volume_type": "gp3"},
                "GB-Mo",
                0.08,
                FOCUS,
                "A",
                FOCUS_DATE,
                product_family="Storage",
                description="EBS gp3 per GB-month",
            )
        )
    return rows


def _bedrock_rows() -> list[dict]:
    rows = []
    prefix, _ = REGIONS["us-east-1"]
    for name, (token, model_id, provider, inp, outp, cread, cwrite, batch, tiers, geo) in _BR.items():
        marketplace = name in _MARKETPLACE
        service = BEDROCK_MARKETPLACE if marketplace else BEDROCK_FIRST_PARTY
        source = FMB if name in _BR_FROM_FMB else LITELLM
        date = FMB_DATE if name in _BR_FROM_FMB else LITELLM_DATE
        conf = "A" if name in _BR_FROM_FMB else "B"
        kinds = {"input": inp, "output": outp, "cache-read": cread, "cache-write": cwrite}
        prices: dict[tuple[str, str], float] = {}
        for kind, usd in kinds.items():
            if usd is not None:  # Nova cache writes are free (Bedrock pricing page): a sourced 0
                prices[(kind, "standard")] = usd
        if batch:
            for kind in ("input", "output"):
                standard_usd = kinds[kind]
                if standard_usd is not None:
                    prices[(kind, "batch")] = round(standard_usd * 0.5, 10)
        for tier, (tin, tout) in tiers.items():
            prices[("input", tier)] = tin
            prices[("output", tier)] = tout
        routings = ["in-region", "geo"] + (["global"] if geo else [])
        for (kind, tier), usd in prices.items():
            for routing in routings:
                factor = GEO_PREMIUM if (routing == "geo" and geo) else 1.0
                notes = [source]
                if tier == "batch":
                    notes.append("batch = 50% of on-demand (AWS docs, A)")
                if routing == "geo":
                    notes.append("geo profile 1.1x (litellm us.*)" if geo else "geo = in-region price (litellm us.*)")
                if marketplace:
                    unit, price = "1M tokens", round(usd * factor, 10)
                    ut = _MP_USAGE.get((kind, routing, tier))
                    usage_type = f"{prefix}-MP:{prefix}_{ut}-Units" if ut else ""
                else:
                    unit, price = "1K tokens", round(usd * factor / 1000, 12)
                    usage_type = ""
                    if token and routing == "in-region":
                        suffix = "" if tier == "standard" else f"-{tier}"
                        usage_type = {
                            "input": f"{prefix}-{token}-input-tokens{suffix}",
                            "output": f"{prefix}-{token}-output-tokens{suffix}",
                            "cache-read": f"{prefix}-{token}-cache-read-input-token-count{suffix}",
                        }.get(kind, "")
                attrs = {
                    "model": name,
                    "model_id": model_id,
                    "provider": provider,
                    "usage_token": token,
                    "token_kind": kind,
                    "tier": tier,
                    "routing": routing,
                }
                rows.append(
                    price_row(
                        service,
                        "us-east-1",
                        usage_type,
                        attrs,
                        unit,
                        price,
                        "; ".join(notes),
                        conf,
                        date,
                        operation="InvokeModel",
                        description=f"{name} {kind} tokens, {tier}, {routing}",
                    )
                )
    return rows


def _other_rows() -> list[dict]:
    rows = []
    for region in ("us-east-1", "us-west-2"):
        prefix = "" if region == "us-east-1" else REGIONS[region][0] + "-"
        extra = "" if region == "us-east-1" else "; assumed = us-east-1 (C)"
        for cls, volume_type, ut, usd, source, conf in _S3:
            rows.append(
                price_row(
                    "AmazonS3",
                    region,
                    prefix + ut,
                    {"storage_class": cls, "volume_type": volume_type},
                    "GB-Mo",
                    usd,
                    source + extra,
                    conf if not extra else "C",
                    FOCUS_DATE if conf == "A" else REF_DATE,
                    product_family="Storage",
                    description=f"{volume_type} storage per GB-month (first tier)",
                )
            )
        for kind, ut, usd, desc in _S3_REQUESTS:
            rows.append(
                price_row(
                    "AmazonS3",
                    region,
                    prefix + ut,
                    {"request_tier": kind},
                    "Requests",
                    usd,
                    FOCUS + extra,
                    "A" if not extra else "C",
                    FOCUS_DATE,
                    product_family="API Request",
                    description=desc,
                )
            )
        for kind, ut, usd, desc, source, conf in _TRANSFER:
            if kind == "sagemaker-endpoint-data":
                continue
            usage_type = ut.replace("{R}-{R2}", f"{REGIONS[region][0]}-*") if "{R}" in ut else prefix + ut
            rows.append(
                price_row(
                    "AWSDataTransfer",
                    region,
                    usage_type,
                    {"kind": kind},
                    "GB",
                    usd,
                    source + extra,
                    conf if not extra else "C",
                    FOCUS_DATE,
                    product_family="Data Transfer",
                    description=desc,
                )
            )
    for kind, _ut, usd, desc, source, conf in _TRANSFER:
        if kind == "sagemaker-endpoint-data":
            rows.append(
                price_row(
                    "AmazonSageMaker",
                    "eu-west-1",
                    "",
                    {"kind": kind},
                    "GB",
                    usd,
                    source,
                    conf,
                    BILL_EU_DATE,
                    operation="Invoke-Endpoint",
                    product_family="Data Transfer",
                    description=desc,
                )
            )
    for service, ut, unit, usd, desc, source, conf in _AI_SERVICES:
        rows.append(
            price_row(
                service,
                "us-east-1",
                ut,
                {"api": desc.split(",")[0]},
                unit,
                usd,
                source,
                conf,
                REF_DATE,
                description=desc,
            )
        )
    return rows


def build_price_rows() -> list[dict]:
    return _sagemaker_rows() + _ec2_rows() + _bedrock_rows() + _other_rows()


def build_spec_rows() -> list[dict]:
    return [
        dict(zip(SPEC_COLUMNS, [t, v, m, g, gm, acc, _family(t), gen, SPEC_SOURCE], strict=True))
        for t, v, m, g, gm, acc, gen in _SPECS
    ]


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    write_csv(DATA_DIR / "prices.csv", PRICE_COLUMNS, build_price_rows())
    write_csv(DATA_DIR / "instance_specs.csv", SPEC_COLUMNS, build_spec_rows())


if __name__ == "__main__":
    main()
