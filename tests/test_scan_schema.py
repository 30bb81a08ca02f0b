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


def test_scan_output_validates_against_the_schema(demo_store_copy):
    store = demo_store_copy("scan-schema")  # the scan keeps its history: a copy of the session's demo store
    result = run_cli("scan", "-f", "json", "--store", str(store.path))
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


DOCUMENT_COMMANDS = {
    "anomalies": ("anomalies", "-f", "json", "--by", "usage_type"),
    "forecast": ("forecast", "-f", "json"),
}


def test_every_document_schema_file_is_current():
    from aifinops.model import DOCUMENTS, document_json_schema

    assert set(DOCUMENTS) == set(DOCUMENT_COMMANDS), "a document without a command test below"
    for name in DOCUMENTS:
        path = SCHEMA_FILE.parent / f"{name}.schema.json"
        assert json.loads(path.read_text()) == document_json_schema(name), (
            f"docs/schema/{name}.schema.json is stale: run `python -m aifinops.model docs/schema`"
        )


def test_anomalies_and_forecast_output_validate_against_their_schemas(demo_store):
    store = str(demo_store.path)  # the session's demo store: these commands only read it
    for name, command in DOCUMENT_COMMANDS.items():
        result = run_cli(*command, "--store", store)
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        jsonschema.validate(doc, json.loads((SCHEMA_FILE.parent / f"{name}.schema.json").read_text()))
    # the demo has planted anomalies: the document is not vacuously valid
    anomalies = json.loads(run_cli("anomalies", "-f", "json", "--store", store).stdout)
    assert anomalies["anomalies"] and all(a["daily"] for a in anomalies["anomalies"])


def test_a_document_with_an_unknown_field_is_refused():
    import pydantic
    import pytest

    from aifinops.model import ForecastMonth

    with pytest.raises(pydantic.ValidationError):
        ForecastMonth.model_validate({"start": "2024-11-01", "end": "2024-12-01", "mean_usd": 1, "lower_usd": 0,
                                      "upper_usd": 2, "mean": 1})
