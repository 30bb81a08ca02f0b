"""Typed price lookups over the catalog: instance hours, specs, Spot ranges, Bedrock tokens, S3, transfer.

Names are accepted the way they appear in billing and in the Price List: SageMaker components as
'Hosting' or 'Host', Bedrock models as 'NovaLite', 'Nova Lite', 'Claude Sonnet 4.5 (Amazon Bedrock Edition)'
or 'us.anthropic.claude-…', S3 classes as 'STANDARD_IA' or 'Standard - Infrequent Access'.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, NoReturn

from aifinops.pricing.catalog import DATA_DIR, Price, PriceNotFound, close_matches, load_catalog, normalize_key
from aifinops.pricing.seed import COMPONENT_ALIASES

SAGEMAKER = "AmazonSageMaker"
EC2 = "AmazonEC2"
BEDROCK_SERVICES = ("AmazonBedrock", "AmazonBedrockFoundationModels")

# Price List component names (the AmazonSageMaker offer's ``component`` attribute) and the usage-type /
# usage_daily.component spellings that mean them:
# seed.COMPONENT_ALIASES. These two mean Spot training.
SPOT_COMPONENTS = {"trspt", "spottraining"}


def _as_date(as_of: date | str | None) -> date | None:
    return date.fromisoformat(as_of) if isinstance(as_of, str) else as_of


def sagemaker_component(component: str) -> str:
    key = normalize_key(component)
    if key not in COMPONENT_ALIASES:
        raise PriceNotFound(f"SageMaker component {component!r}",
                            close_matches(component, sorted(set(COMPONENT_ALIASES.values()))))
    return COMPONENT_ALIASES[key]


def instance_hourly(instance_type: str, region: str = "us-east-1", component: str = "Hosting",
                    as_of: date | str | None = None) -> Price:
    """On-demand $/hour: 'ml.g5.xlarge' -> SageMaker ``component``; 'g5.xlarge' -> EC2 Linux on-demand."""
    cat, when = load_catalog(), _as_date(as_of)
    if instance_type.startswith("ml."):
        comp = sagemaker_component(component)
        service, attrs = SAGEMAKER, {"instance_type": instance_type, "component": comp}
        what = f"{instance_type} {comp} in {region}"
    else:
        service, attrs, what = EC2, {"instance_type": instance_type}, f"EC2 {instance_type} on-demand in {region}"
    row = cat.best(service, region, when, **attrs)
    if row is None:
        _explain_missing_instance(service, instance_type, region, attrs, when, what)
    note = ""
    if instance_type.startswith("ml.") and normalize_key(component) in SPOT_COMPONENTS:
        note = "on-demand Training rate; managed Spot bills fewer (billable) seconds or a lower rate"
    return row.to_price(note=note)


def _explain_missing_instance(
    service: str, instance_type: str, region: str, attrs: dict[str, Any], when: date | None, what: str
) -> NoReturn:
    cat = load_catalog()
    if when is not None and cat.select(service, region, any_time=True, **attrs):
        current = cat.best(service, region, None, **attrs)
        since = f" (current ${current.usd_per_unit}/h since {current.effective_from})" if current else ""
        raise PriceNotFound(f"{what} as of {when}",
                            fix=f"the snapshot has no {instance_type} rate valid on {when}{since}; "
                                "pass a later as_of or add the dated rate to the snapshot.")
    others = {k: v for k, v in attrs.items() if k != "instance_type"}
    elsewhere = sorted({r.region for r in cat.rows if r.service_code == service and r.valid_at(when)
                        and r.attributes.get("instance_type") == instance_type
                        and all(r.attributes.get(k) == v for k, v in others.items())})
    if elsewhere:
        raise PriceNotFound(what, fix=f"the snapshot has {instance_type} only in {', '.join(elsewhere)}; "
                                      "run `aifinops pricing refresh` for other regions.")
    raise PriceNotFound(what, close_matches(instance_type, cat.values(service, "instance_type", region=region,
                                                                      **others)))


@dataclass(frozen=True)
class InstanceSpec:
    """Hardware of one instance type; GPU memory is the total over its GPUs."""

    instance_type: str
    vcpu: int
    memory_gib: float
    gpus: int
    gpu_memory_gib: float
    accelerator: str
    family: str
    generation: str  # 'current' | 'previous'
    source: str = ""

    @property
    def gpu_memory_per_gpu_gib(self) -> float:
        return self.gpu_memory_gib / self.gpus if self.gpus else 0.0

    @property
    def accelerated(self) -> bool:
        return self.gpus > 0


@lru_cache(maxsize=1)
def _specs() -> dict[str, InstanceSpec]:
    with (DATA_DIR / "instance_specs.csv").open(newline="") as fh:
        return {r["instance_type"]: InstanceSpec(r["instance_type"], int(r["vcpu"]), float(r["memory_gib"]),
                                                 int(r["gpus"]), float(r["gpu_memory_gib"]), r["accelerator"],
                                                 r["family"], r["generation"], r["source"])
                for r in csv.DictReader(fh)}


def instance_specs(instance_type: str) -> InstanceSpec:
    """Specs for 'g5.xlarge' or 'ml.g5.xlarge' (the returned spec keeps the name as asked)."""
    base = instance_type.removeprefix("ml.")
    spec = _specs().get(base)
    if spec is None:
        prefix = "ml." if instance_type.startswith("ml.") else ""
        raise PriceNotFound(f"instance specs of {instance_type}",
                            [prefix + m for m in close_matches(base, list(_specs()))],
                            fix="use a type listed in aifinops/pricing/data/instance_specs.csv, or add its specs.")
    return InstanceSpec(instance_type, *[getattr(spec, f) for f in
                                         ("vcpu", "memory_gib", "gpus", "gpu_memory_gib", "accelerator", "family",
                                          "generation", "source")])


def similar_instances(instance_type: str, min_gpus: int = 0, *, max_gpus: int | None = None,
                      min_gpu_memory_gib: float = 0.0, min_memory_gib: float = 0.0, min_vcpu: int = 0,
                      accelerated: bool | None = None, same_vendor: bool = True, region: str = "us-east-1",
                      component: str = "Hosting") -> list[InstanceSpec]:
    """Rightsizing candidates priced in ``region`` (and ``component`` for ml.*), cheapest first.

    By default a GPU instance gets GPU candidates and a CPU instance CPU ones (``accelerated`` overrides);
    ``same_vendor`` keeps NVIDIA with NVIDIA and Inferentia/Trainium with AWS chips (a model moves between
    them only after recompiling).
    The instance itself is excluded.
    """
    me = instance_specs(instance_type)
    sagemaker = instance_type.startswith("ml.")
    want_accel = me.accelerated if accelerated is None else accelerated
    out: list[tuple[float, InstanceSpec]] = []
    for base, spec in _specs().items():
        name = ("ml." if sagemaker else "") + base
        if name == instance_type or spec.accelerated != want_accel or spec.gpus < min_gpus:
            continue
        if (max_gpus is not None and spec.gpus > max_gpus) or spec.gpu_memory_gib < min_gpu_memory_gib:
            continue
        if same_vendor and spec.accelerator.split(" ")[:1] != me.accelerator.split(" ")[:1]:
            continue
        if spec.memory_gib < min_memory_gib or spec.vcpu < min_vcpu:
            continue
        try:
            usd = instance_hourly(name, region, component).usd_per_unit
        except PriceNotFound:
            continue
        out.append((usd, InstanceSpec(name, *[getattr(spec, f) for f in (
            "vcpu", "memory_gib", "gpus", "gpu_memory_gib", "accelerator", "family", "generation", "source")])))
    return [spec for _, spec in sorted(out, key=lambda t: (t[0], t[1].instance_type))]


class SpotDiscount(tuple[float, float, float]):
    """(low, typical, high) fraction off on-demand, with ``source`` and ``confidence`` attributes."""

    source: str
    confidence: str

    def __new__(cls, low: float, typical: float, high: float, source: str, confidence: str) -> SpotDiscount:
        obj = super().__new__(cls, (low, typical, high))
        obj.source, obj.confidence = source, confidence
        return obj

    @property
    def low(self) -> float:
        return self[0]

    @property
    def typical(self) -> float:
        return self[1]

    @property
    def high(self) -> float:
        return self[2]


def spot_discount(instance_type: str | None = None) -> SpotDiscount:
    """Planning range of the Spot discount (EC2 Spot or SageMaker managed Spot): the one home of the figure,
    read by the simulators' and checks' defaults. With ``instance_type``, an unknown type fails loudly."""
    from aifinops.pricing.seed import SPOT_DISCOUNT

    if instance_type is not None:
        instance_specs(instance_type)  # unknown types fail loudly, with a suggestion
    low, typical, high, source, confidence = SPOT_DISCOUNT
    return SpotDiscount(low, typical, high, source, confidence)


# ---------------------------------------------------------------------------------------------- Bedrock
_TOKEN_KINDS = {"input": "input", "inputtokens": "input", "output": "output", "outputtokens": "output",
                "cacheread": "cache-read", "cachereadinputtokens": "cache-read", "cachewrite": "cache-write",
                "cachewriteinputtokens": "cache-write"}
_TIERS = {"standard": "standard", "ondemand": "standard", "batch": "batch", "flex": "flex", "priority": "priority"}
_GEO_PREFIXES = ("us", "eu", "apac", "jp", "au", "ca", "usgov")


@lru_cache(maxsize=8)
def _model_aliases(cat_id: int) -> dict[str, str]:
    cat = load_catalog()
    aliases: dict[str, str] = {}
    for r in cat.rows:
        if r.service_code not in BEDROCK_SERVICES or "model" not in r.attributes:
            continue
        name = r.attributes["model"]
        for alias in (name, r.attributes.get("usage_token", ""), r.attributes.get("model_id", ""),
                      f"{name} (Amazon Bedrock Edition)"):
            if alias:
                aliases.setdefault(normalize_key(alias), name)
    return aliases


def canonical_model(name: str | None) -> str:
    """The one name of a Bedrock model, from a bill's model name or a log's model / profile id: the catalog's name
    when it knows the model, else the name lower-cased to letters and digits."""
    if not name:
        return "unknown"
    try:
        return resolve_model(name)[0]
    except PriceNotFound:
        return re.sub(r"[^a-z0-9]", "", name.lower().removesuffix(" (amazon bedrock edition)"))


def resolve_model(model: str) -> tuple[str, str | None]:
    """Canonical model name and the routing implied by an inference-profile prefix ('us.' -> 'geo')."""
    text = model.strip().removesuffix(" (Amazon Bedrock Edition)")
    routing = None
    head, _, rest = text.partition(".")
    if rest and head.lower() in (*_GEO_PREFIXES, "global") and "." in rest:
        routing, text = ("global" if head.lower() == "global" else "geo"), rest
    aliases = _model_aliases(id(load_catalog()))
    name = aliases.get(normalize_key(text))
    if name is None:
        names = sorted(set(aliases.values()))
        raise PriceNotFound(f"Bedrock model {model!r}", close_matches(text, names) or
                            [n for n in names if normalize_key(text)[:5] in normalize_key(n)][:3])
    return name, routing


def _routing(cross_region: str | bool | None) -> str:
    if cross_region in (None, False, "", "in-region", "none"):
        return "in-region"
    if cross_region is True or str(cross_region).lower() == "global":
        return "global"
    if str(cross_region).lower().rstrip(".") in (*_GEO_PREFIXES, "geo"):
        return "geo"
    raise PriceNotFound(f"cross-region routing {cross_region!r}", close_matches(str(cross_region),
                                                                                 ["global", "geo", "in-region"]))


def bedrock_token_price(model: str, token_kind: str, tier: str = "standard", region: str = "us-east-1",
                        cross_region: str | bool | None = None) -> Price:
    """USD per 1K tokens. ``cross_region``: None (in-region), 'global', 'geo' or a geo prefix ('us', 'eu')."""
    name, implied = resolve_model(model)
    kind = _TOKEN_KINDS.get(normalize_key(token_kind))
    if kind is None:
        raise PriceNotFound(f"token kind {token_kind!r}", close_matches(token_kind, sorted(set(_TOKEN_KINDS.values()))))
    tier_name = _TIERS.get(normalize_key(tier))
    if tier_name is None:
        raise PriceNotFound(f"Bedrock tier {tier!r}", close_matches(tier, sorted(set(_TIERS.values()))))
    routing = _routing(cross_region) if cross_region not in (None, False) else (implied or "in-region")
    cat = load_catalog()
    attrs: dict[str, Any] = {"model": name, "token_kind": kind, "tier": tier_name}
    rows = [r for s in BEDROCK_SERVICES for r in cat.select(s, region, None, **attrs, routing=routing)]
    note = ""
    # A global. cross-Region inference profile is billed at the model's base (in-Region) rate: Amazon Bedrock
    # pricing page, aws.amazon.com/bedrock/pricing/ (geo profiles such as us. may cost more on newer models).
    if not rows and routing == "global":
        rows = [r for s in BEDROCK_SERVICES for r in cat.select(s, region, None, **attrs, routing="in-region")]
        note = "global profile priced at the in-region rate (Amazon Bedrock pricing, aws.amazon.com/bedrock/pricing/)"
    if not rows:
        where = [r for s in BEDROCK_SERVICES for r in cat.select(s, region, None, model=name)]
        if not where:
            regions = sorted({r.region for r in cat.rows if r.attributes.get("model") == name})
            raise PriceNotFound(f"Bedrock {name} in {region}",
                                fix=f"the snapshot prices {name} in {', '.join(regions)}; "
                                    "run `aifinops pricing refresh` for other regions.")
        offered = sorted({f"{r.attributes['token_kind']}/{r.attributes['tier']}" for r in where})
        raise PriceNotFound(f"Bedrock {name} {kind} tokens, tier {tier_name}, {routing}",
                            fix=f"{name} is priced for: {', '.join(offered)}.")
    row = max(rows, key=lambda r: r.fetched_at)
    per_1k = round(row.usd_per_unit / 1000, 12) if row.unit.lower().startswith("1m") else row.usd_per_unit
    return row.to_price(usd_per_unit=per_1k, unit="1K tokens", note=note)


# ----------------------------------------------------------------------------- S3, transfer, serverless
_S3_ALIASES = {"standard": "STANDARD", "intelligenttiering": "INTELLIGENT_TIERING",
               "intelligenttieringfrequentaccess": "INTELLIGENT_TIERING",
               "intelligenttieringinfrequentaccess": "INTELLIGENT_TIERING_IA",
               "intelligenttieringarchiveinstantaccess": "INTELLIGENT_TIERING_AIA",
               "standardia": "STANDARD_IA", "standardinfrequentaccess": "STANDARD_IA", "onezoneia": "ONEZONE_IA",
               "onezoneinfrequentaccess": "ONEZONE_IA", "glacierir": "GLACIER_IR",
               "glacierinstantretrieval": "GLACIER_IR", "glacier": "GLACIER", "amazonglacier": "GLACIER",
               "glacierflexibleretrieval": "GLACIER", "deeparchive": "DEEP_ARCHIVE",
               "glacierdeeparchive": "DEEP_ARCHIVE"}


def _single(service: str, region: str, what: str, key: str, value: str | int, as_of: date | None = None) -> Price:
    cat = load_catalog()
    row = cat.best(service, region, as_of, **{key: value})
    if row is None:
        regions = sorted({r.region for r in cat.rows if r.service_code == service and r.attributes.get(key) == value})
        if regions:
            raise PriceNotFound(f"{what} in {region}", fix=f"the snapshot has it in {', '.join(regions)}.")
        raise PriceNotFound(what, close_matches(str(value), cat.values(service, key)))
    return row.to_price()


def s3_storage_price(storage_class: str, region: str = "us-east-1") -> Price:
    """USD per GB-month (first tier) for an S3 storage class ('STANDARD_IA' or 'Standard - Infrequent Access')."""
    cls = _S3_ALIASES.get(normalize_key(storage_class), storage_class)
    return _single("AmazonS3", region, f"S3 storage class {storage_class!r}", "storage_class", cls)


def s3_request_price(request_tier: str, region: str = "us-east-1") -> Price:
    """USD per request: 'tier1' (PUT, COPY, POST, LIST) or 'tier2' (GET and the rest)."""
    return _single("AmazonS3", region, f"S3 request tier {request_tier!r}", "request_tier", request_tier.lower())


def transfer_price(kind: str, region: str = "us-east-1") -> Price:
    """USD per GB: 'internet-out', 'inter-region', 'cross-az', 'nat-gateway', 'to-cloudfront'."""
    if kind == "sagemaker-endpoint-data":
        return _single(SAGEMAKER, region, f"transfer {kind!r}", "kind", kind)
    return _single("AWSDataTransfer", region, f"data transfer {kind!r}", "kind", kind)


def serverless_inference_price(memory_gb: float, region: str = "us-east-1") -> Price:
    """USD per second of SageMaker Serverless Inference at ``memory_gb`` (1-6 GB)."""
    if memory_gb not in (1, 2, 3, 4, 5, 6):
        raise PriceNotFound(f"serverless inference with {memory_gb} GB",
                            fix="SageMaker Serverless memory sizes are 1, 2, 3, 4, 5 or 6 GB (1024-6144 MB).")
    return _single(SAGEMAKER, region, f"serverless inference {memory_gb} GB", "memory_gb", int(memory_gb))


def usage_type_price(service_code: str, usage_type: str, region: str = "us-east-1",
                     as_of: date | str | None = None) -> Price:
    """The list price of a billing usage type as it appears in CUR ('USE1-Host:ml.g5.xlarge', 'Comprehend-EA')."""
    cat, when = load_catalog(), _as_date(as_of)
    rows = [r for r in cat.select(service_code, region, when) if r.usage_type == usage_type]
    if not rows:
        choices = sorted({r.usage_type for r in cat.rows if r.service_code == service_code and r.usage_type})
        if not choices:
            raise PriceNotFound(f"service {service_code!r}", close_matches(service_code, cat.service_codes()))
        raise PriceNotFound(f"{service_code} usage type {usage_type!r} in {region}", close_matches(usage_type, choices))
    return max(rows, key=lambda r: (r.effective_from or date.min, r.fetched_at)).to_price()


def savings_plan_hourly(instance_type: str, region: str = "us-east-1", component: str = "Hosting",
                        term: str = "1yr", payment_option: str = "No Upfront") -> Price:
    """SageMaker Savings Plans $/hour for one usage type; present only after `aifinops pricing refresh`."""
    cat = load_catalog()
    row = cat.best("AWSMachineLearningSavingsPlans", region, None, instance_type=instance_type,
                   component=sagemaker_component(component), term=term, payment_option=payment_option)
    if row is None:
        raise PriceNotFound(f"a SageMaker Savings Plan ({term}, {payment_option}) rate for {instance_type} "
                            f"{component} in {region}",
                            fix="the bundled snapshot has no per-type Savings Plans rates (AWS: 'up to 64%' off); "
                                "run `aifinops pricing refresh` to fetch them.")
    return row.to_price()
