"""The scan document's contract: a typed model (model.ScanDocument), its JSON Schema in docs/schema/ kept current,
and real scan output that validates against that schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from aifinops.model import ScanDocument, scan_json_schema
from clirun import run_cli

SCHEMA_FILE = Path(__file__).parent.parent / "docs" / "schema" / "scan.schema.json"


def test_the_schema_file_is_current():
    assert json.loads(SCHEMA_FILE.read_text()) == scan_json_schema(), (
        "docs/schema/scan.schema.json is stale: run `python -m aifinops.model docs/schema`"
    )


def test_scan_output_validates_against_the_schema(tmp_path):
    result = run_cli("scan", "-f", "json", "--store", str(tmp_path / "demo.duckdb"))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    assert ScanDocument.model_validate(doc).to_json_dict() == doc
    assert doc["schema"] == "aifinops.scan/1" and doc["source"]["kind"] == "demo"


def test_the_schema_refuses_a_document_missing_a_contract_field():
    schema = json.loads(SCHEMA_FILE.read_text())
    for field in ("findings", "totals", "savings", "period", "source"):
        assert field in schema["required"], field
    finding = schema["$defs"]["Finding"]
    assert {"check", "title", "resource_id", "monthly_savings_usd", "confidence"} <= set(finding["required"])
