"""Legacy CUR ingest: costs per line item type, tag columns, and month folders with manifests."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from aifinops.errors import InputError
from aifinops.ingest.cur_legacy import athena_name, select_current_assemblies
from aifinops.ingest.pipeline import ingest_paths
from aifinops.store import Store

FIXTURE = Path(__file__).parent / "data" / "legacy_cur" / "legacy_cur_2024-10.csv"
MONTH = "20241001-20241101"
OLD_ASSEMBLY = "0b1a7c1e-1111-4e0a-9d2b-6f1f3a8c0e01"
NEW_ASSEMBLY = "7e3d2f4a-2222-4b9c-8a1d-2c5e6f7a8b02"

# Hand-computed from the fixture (one term per line item, in file order).
BILLED = 33.792 + 50.5026 - 50.5026 + 100.0 + 10.06 + 0.0 + 30.0 + 500.0 + 12.34 - 5.0 + 0.06
EFFECTIVE = (
    33.792            # Usage: unblended
    + 32.83           # SavingsPlanCoveredUsage: savingsPlan/SavingsPlanEffectiveCost
    + 0.0             # SavingsPlanNegation
    + (100.0 - 32.83)  # SavingsPlanRecurringFee: TotalCommitmentToDate - UsedCommitment
    + 10.06           # Usage
    + 0.55            # DiscountedUsage: reservation/EffectiveCost
    + (1.2 + 2.0)     # RIFee: unused amortized upfront + unused recurring
    + 0.0             # Fee of a Reserved Instance (upfront, amortized into EffectiveCost)
    + 12.34 - 5.0 + 0.06  # Tax, Credit, Usage: unblended
)


def fixture_rows() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(FIXTURE.open(newline="")))
    return rows[0], rows[1:]


def write_part(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A legacy CUR report part: gzip CSV."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buf.getvalue().encode()))
    return path


def write_manifest(report_dir: Path, assembly: str, names: list[str]) -> Path:
    """The month's manifest as AWS writes it (keys are S3 keys under the report prefix)."""
    manifest = {
        "assemblyId": assembly,
        "account": "111122223333",
        "columns": [{"category": "lineItem", "name": "UsageType", "type": "String"}],
        "charset": "UTF-8",
        "compression": "GZIP",
        "contentType": "text/csv",
        "reportId": "5f2c",
        "reportName": "ai-cur",
        "billingPeriod": {"start": "20241001T000000.000Z", "end": "20241101T000000.000Z"},
        "bucket": "cur-bucket",
        "reportKeys": [f"billing/ai-cur/{MONTH}/{assembly}/{n}" for n in names],
        "additionalArtifactKeys": [],
    }
    path = report_dir / MONTH / "ai-cur-Manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    return path


def totals(store: Store) -> tuple[int, float, float]:
    with store.connect(read_only=True) as con:
        return con.execute("SELECT count(*), sum(billed_cost), sum(effective_cost) FROM charges").fetchone()


def test_legacy_cur_reconciles_billed_and_effective(tmp_path):
    header, rows = fixture_rows()
    path = write_part(tmp_path / "ai-cur-1.csv.gz", header, rows)
    store = Store(tmp_path / "s.duckdb")

    result = ingest_paths(store, [path])

    assert result.formats == ["cur-legacy"]
    assert result.rows == 11
    assert result.billed_cost == pytest.approx(BILLED, abs=1e-9)
    n, billed, effective = totals(store)
    assert n == 11
    assert (billed, effective) == (pytest.approx(BILLED, abs=1e-9), pytest.approx(EFFECTIVE, abs=1e-9))
    with store.connect(read_only=True) as con:
        by_type = dict(
            con.execute("SELECT line_item_type, sum(effective_cost) FROM charges GROUP BY 1").fetchall())
        host = con.execute(
            "SELECT billing_period, sub_account_id, billing_account_id, region_id, service_name, "
            "instance_type, product_family, pricing_term, pricing_category, list_cost, usage_quantity, "
            "pricing_unit, source_format FROM charges WHERE usage_type = 'USE1-Host:ml.g5.xlarge'"
        ).fetchone()
        host_tags = con.execute(
            "SELECT tags FROM usage_daily WHERE usage_type = 'USE1-Host:ml.g5.xlarge'").fetchone()[0]
        train = con.execute("SELECT ai_service, workload, purchase_option, tags FROM usage_daily "
                            "WHERE line_item_type = 'SavingsPlanCoveredUsage'").fetchone()
        ec2_tags = con.execute(
            "SELECT tags FROM usage_daily WHERE usage_type = 'BoxUsage:g5.xlarge'").fetchone()[0]
    assert by_type["SavingsPlanRecurringFee"] == pytest.approx(67.17)
    assert by_type["RIFee"] == pytest.approx(3.2)
    assert by_type["Fee"] == 0.0
    assert by_type["SavingsPlanNegation"] == 0.0
    assert str(host[0]) == "2024-10-01"
    assert host[1:13] == ("444455556666", "111122223333", "us-east-1", "Amazon SageMaker", "ml.g5.xlarge",
                          "ML Instance", "OnDemand", "Standard", 33.792, 24.0, "Hrs", "cur-legacy")
    assert json.loads(host_tags) == {"team": "ml", "project": "chat"}  # canonical keys in the rollup
    assert train[:3] == ("sagemaker", "training", "savings-plan")
    assert json.loads(train[3]) == {"team": "research"}  # from the resourceTags/user:Team column
    assert json.loads(ec2_tags) == {"team": "ml", "aws_createdby": "arn:aws:iam::444455556666:user/ci"}


def _two_assemblies(root: Path) -> Path:
    """A month delivered twice: an older, smaller assembly and the current one in two parts."""
    header, rows = fixture_rows()
    report = root / "billing" / "ai-cur"
    write_part(report / MONTH / OLD_ASSEMBLY / "ai-cur-1.csv.gz", header, rows[:3])
    write_part(report / MONTH / NEW_ASSEMBLY / "ai-cur-1.csv.gz", header, rows[:6])
    write_part(report / MONTH / NEW_ASSEMBLY / "ai-cur-2.csv.gz", header, rows[6:])
    write_manifest(report, NEW_ASSEMBLY, ["ai-cur-1.csv.gz", "ai-cur-2.csv.gz"])
    return report


def test_manifest_keeps_only_the_current_assembly(tmp_path):
    report = _two_assemblies(tmp_path / "s3")
    store = Store(tmp_path / "s.duckdb")

    result = ingest_paths(store, [tmp_path / "s3"])

    assert sorted(Path(f).parent.name for f in result.files) == [NEW_ASSEMBLY, NEW_ASSEMBLY]
    assert totals(store) == (11, pytest.approx(BILLED, abs=1e-9), pytest.approx(EFFECTIVE, abs=1e-9))
    # Passing a superseded file by name does not resurrect it.
    old = report / MONTH / OLD_ASSEMBLY / "ai-cur-1.csv.gz"
    assert select_current_assemblies([old.resolve()]) == []


def test_reingesting_a_month_replaces_it(tmp_path):
    report = _two_assemblies(tmp_path / "s3")
    store = Store(tmp_path / "s.duckdb")
    ingest_paths(store, [tmp_path / "s3"])
    ingest_paths(store, [tmp_path / "s3"])
    assert totals(store) == (11, pytest.approx(BILLED, abs=1e-9), pytest.approx(EFFECTIVE, abs=1e-9))

    # AWS re-delivers the month: a third assembly with one more day of hosting; the manifest moves to it.
    header, rows = fixture_rows()
    newer = "c4d5e6f7-3333-4a1b-9c2d-3e4f5a6b7c03"
    extra = list(rows[0])
    extra[0] = "li-12"
    write_part(report / MONTH / newer / "ai-cur-1.csv.gz", header, rows + [extra])
    write_manifest(report, newer, ["ai-cur-1.csv.gz"])
    ingest_paths(store, [tmp_path / "s3"])

    n, billed, effective = totals(store)
    assert n == 12
    assert (billed, effective) == (pytest.approx(BILLED + 33.792), pytest.approx(EFFECTIVE + 33.792))
    with store.connect(read_only=True) as con:
        (rolled,) = con.execute("SELECT sum(billed_cost) FROM usage_daily").fetchone()
        active = con.execute("SELECT count(*) FROM sources WHERE active").fetchone()[0]
    assert rolled == pytest.approx(BILLED + 33.792, abs=1e-9)
    assert active == 1


def test_manifest_naming_a_missing_file_is_an_error(tmp_path):
    header, rows = fixture_rows()
    report = tmp_path / "billing" / "ai-cur"
    write_part(report / MONTH / NEW_ASSEMBLY / "ai-cur-1.csv.gz", header, rows)
    manifest = write_manifest(report, NEW_ASSEMBLY, ["ai-cur-1.csv.gz", "ai-cur-2.csv.gz"])

    with pytest.raises(InputError) as err:
        ingest_paths(Store(tmp_path / "s.duckdb"), [tmp_path / "billing"])

    assert str(manifest) in err.value.problem
    assert "ai-cur-2.csv.gz" in err.value.problem
    assert "To fix:" in str(err.value)


def test_files_outside_a_manifest_layout_pass_through(tmp_path):
    header, rows = fixture_rows()
    loose = write_part(tmp_path / "downloads" / "ai-cur-1.csv.gz", header, rows).resolve()
    # A month folder without a manifest is not governed by one either.
    bare = write_part(tmp_path / "x" / MONTH / OLD_ASSEMBLY / "ai-cur-1.csv.gz", header, rows).resolve()
    assert select_current_assemblies([loose, bare]) == [loose, bare]


@pytest.mark.parametrize(("header", "name"), [
    ("lineItem/UsageType", "line_item_usage_type"),
    ("savingsPlan/SavingsPlanARN", "savings_plan_savings_plan_a_r_n"),
    ("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
     "reservation_unused_amortized_upfront_fee_for_billing_period"),
    ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost"),
    ("product/instanceType", "product_instance_type"),
])
def test_athena_names_match_cur2_columns(header, name):
    from aifinops.ingest.cur2_columns import CUR2_SCHEMA

    assert athena_name(header) == name
    assert name in CUR2_SCHEMA.names
