"""Legacy CUR loader (``lineItem/UsageType`` headers, CSV or gzip CSV) and its manifest handling.

Legacy headers are ``category/Name``; AWS's Athena integration snake-cases them into the CUR 2.0 names
(``lineItem/UsageType`` → ``line_item_usage_type``, ``savingsPlan/SavingsPlanARN`` →
``savings_plan_savings_plan_a_r_n``; AWS CUR user guide,
docs.aws.amazon.com/cur/latest/userguide/cur-athena.html). This loader applies that renaming to the column
references and then runs the CUR 2.0 loader's own SELECT, so both formats share one set of cost semantics
(billed = unblended; effective per line item type, as in the CUR 2.0 loader). The parts CUR 2.0 keeps in maps
are rebuilt: ``product['product_name']`` from ``product/ProductName``, and ``resource_tags`` from the
one-column-per-tag ``resourceTags/user:team`` headers, and the AWS Cost Categories from the
one-column-per-category ``costCategory/Team`` headers (``cost_category_team`` through Athena).

AWS re-delivers a month as a new *assembly* (a folder named by its assemblyId) and rewrites the
month's manifest to name the new files; ``select_current_assemblies`` keeps only those.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from aifinops.errors import InputError
from aifinops.ingest import cur2
from aifinops.ingest.sqlparts import Columns, tags_map_sql

FORMAT = "cur-legacy"
TITLE = "legacy CUR"
REQUIRED = [
    "lineItem/UsageType", "lineItem/UnblendedCost", "lineItem/LineItemType", "bill/BillingPeriodStartDate",
]
NUMERIC_COLUMNS = [
    "lineItem/UnblendedCost", "lineItem/UsageAmount", "pricing/publicOnDemandCost",
    "savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/TotalCommitmentToDate", "savingsPlan/UsedCommitment",
    "reservation/EffectiveCost", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
]
TAG_PREFIX = "resourceTags/"
# Older reports have only product/region, which holds the region code that CUR 2.0 calls product_region_code.
EXTRA_ALIASES = {"product_region_code": "product/region"}
# Columns that only CUR 2.0 has: its maps and the account names it added. Legacy CUR read through
# Athena (snake_case, the same names as CUR 2.0 otherwise) never has them, and has what CUR 2.0 keeps in
# its maps as flat columns: product_product_name, product_region, one resource_tags_user_* per tag.
CUR2_ONLY = {"product", "resource_tags", "cost_category", "discount", "bill_payer_account_name",
             "line_item_usage_account_name"}
ATHENA_LEGACY_MARKS = ("product_product_name", "product_region", "product_servicename")

_PERIOD_DIR = re.compile(r"^\d{8}-\d{8}$")


def athena_name(header: str) -> str:
    """The CUR 2.0 / Athena name of a legacy header.

    'savingsPlan/SavingsPlanARN' → 'savings_plan_savings_plan_a_r_n' (every capital starts a word).
    """
    return "_".join(re.sub(r"(?<!^)([A-Z])", r"_\1", part).lower() for part in header.split("/"))


# The same numbers under their Athena names, for legacy CUR queried through Athena and saved as CSV.
NUMERIC_COLUMNS += [athena_name(n) for n in NUMERIC_COLUMNS]
TIMESTAMP_COLUMNS = ["bill/BillingPeriodStartDate", "lineItem/UsageStartDate", "lineItem/UsageEndDate"]
TIMESTAMP_COLUMNS += [athena_name(n) for n in TIMESTAMP_COLUMNS]
COST_CATEGORY_PREFIX = "costCategory/"
# Legacy CUR for Athena names every column as athena_name does ('costCategory/Team' → 'cost_category_team', the
# way the real Athena export in tests/data/real/wa-labs-workshop-cur writes 'resource_tags_user_cost_center'):
# the category's name is what follows this prefix, in that lower-case, underscored form.
ATHENA_COST_CATEGORY_PREFIX = "cost_category_"
MAP_COLUMNS: list[str] = []  # tags are one column each (resourceTags/user:team), never JSON


def is_athena_legacy(names: list[str]) -> bool:
    """A snake_case file with CUR 2.0's column names that is legacy CUR as Athena presents it."""
    lower = {n.lower() for n in names}
    if lower & CUR2_ONLY:
        return False
    return any(m in lower for m in ATHENA_LEGACY_MARKS) or any(
        n.startswith(("resource_tags_user_", "resource_tags_aws_", ATHENA_COST_CATEGORY_PREFIX)) for n in lower
    )


class LegacyColumns(Columns):
    """A legacy relation's columns, answering to CUR 2.0 names so that cur2.normalize_select reads it."""

    def __init__(self, c: Columns):
        super().__init__(c.names, c.types)
        for name in c.names:
            if "/" in name and not name.startswith(TAG_PREFIX):
                self._lower.setdefault(athena_name(name), name)
        for cur2_name, legacy in EXTRA_ALIASES.items():
            if legacy.lower() in self._lower:
                self._lower.setdefault(cur2_name, self._lower[legacy.lower()])

    def string_map(self, name: str) -> str | None:
        if name == "product":
            if not self.has("product/ProductName"):
                return None
            return f"MAP(['product_name'], [{self.text('product/ProductName')}])"
        if name == "resource_tags":
            return tags_map_sql(self, TAG_PREFIX)
        if name == "cost_category":  # one column per AWS Cost Category: costCategory/<Name>, or through Athena
            # cost_category_<name>; the same map either way, so the categories travel alike (sqlparts)
            return tags_map_sql(self, COST_CATEGORY_PREFIX) or tags_map_sql(self, ATHENA_COST_CATEGORY_PREFIX)
        return super().string_map(name)


def normalize_select(c: Columns, relation: str) -> str:
    """SELECT the store's charge columns (store.CHARGE_COLUMNS order) from a legacy CUR relation."""
    inner = cur2.normalize_select(LegacyColumns(c), relation)
    return f"SELECT * REPLACE ('{FORMAT}' AS source_format) FROM (\n{inner}\n) AS legacy_cur"


# --- manifests -----------------------------------------------------------------------------------


def select_current_assemblies(files: list[Path]) -> list[Path]:
    """Keep, in each legacy CUR month folder that has a manifest, only the files the manifest names.

    Layout: ``<prefix>/<report>/YYYYMMDD-YYYYMMDD/<report>-Manifest.json`` naming
    ``reportKeys`` under ``…/YYYYMMDD-YYYYMMDD/<assemblyId>/<report>-N.csv.gz`` (or directly in the
    month folder for overwrite-style reports). Keys are S3 keys, so they are matched by their path
    below the month folder. Files of other assemblies are superseded and dropped; files outside such
    a layout pass through unchanged. A manifest naming a file that is not there is an error: the month
    would be incomplete.
    """
    kept: list[Path] = []
    current: dict[Path, set[Path]] = {}
    for path in files:
        month = _month_folder(path)
        if month is None:
            kept.append(path)
            continue
        if month not in current:
            current[month] = _manifest_files(month)
        if path.resolve() in current[month]:
            kept.append(path)
    return kept


def _month_folder(path: Path) -> Path | None:
    """The YYYYMMDD-YYYYMMDD folder holding a manifest that governs ``path`` (its parent or grandparent)."""
    for folder in (path.parent, path.parent.parent):
        if _PERIOD_DIR.match(folder.name) and any(folder.glob("*-Manifest.json")):
            return folder
    return None


def _manifest_files(month: Path) -> set[Path]:
    named: set[Path] = set()
    for manifest in sorted(month.glob("*-Manifest.json")):
        named |= manifest_report_files(manifest, month)
    return named


def manifest_report_files(manifest: Path, month: Path | None = None) -> set[Path]:
    """The local files a legacy CUR manifest's reportKeys name, below its month folder (the manifest's
    folder, or its parent for the copy AWS also writes inside each assembly folder)."""
    if month is None:
        month = manifest.parent.parent if _PERIOD_DIR.match(manifest.parent.parent.name) else manifest.parent
    named: set[Path] = set()
    for key in _report_keys(manifest):
        parts = [p for p in key.split("/") if p]
        below = parts[len(parts) - parts[::-1].index(month.name):] if month.name in parts else parts[-2:]
        local = month.joinpath(*below)
        if not local.is_file():
            raise InputError(
                f"{manifest}: names {key}, but {local} is missing.",
                "download the whole month folder again (the manifest and every file it names).",
            )
        named.add(local.resolve())
    return named


def _report_keys(manifest: Path) -> list[str]:
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{manifest}: not a readable CUR manifest ({type(exc).__name__}).",
                         "download it again from the report's S3 prefix.") from exc
    keys = data.get("reportKeys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise InputError(f"{manifest}: has no reportKeys list, so it is not a legacy CUR manifest.",
                         "download it again from the report's S3 prefix, or remove it from the folder.")
    return keys
