"""docs/checks.md is generated from the registry: complete for every check, and never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifinops.checks import REGISTRY
from aifinops.checks.docs import missing_parts, render_checks_markdown
from clirun import run_cli

DOCS = Path(__file__).resolve().parents[1] / "docs" / "checks.md"


@pytest.mark.parametrize("check_id", sorted(REGISTRY))
def test_every_check_documents_its_whole_contract(check_id):
    assert missing_parts(REGISTRY[check_id]) == [], f"{check_id} lacks parts of its documented contract"


def test_docs_checks_md_is_up_to_date():
    assert DOCS.exists(), "docs/checks.md is missing: run `aifinops checks docs --write`"
    assert DOCS.read_text() == render_checks_markdown(), (
        "docs/checks.md is out of date: run `aifinops checks docs --write`"
    )


def test_rendered_page_lists_every_check_with_its_parts():
    text = render_checks_markdown()
    for check_id, cls in REGISTRY.items():
        section = text.split(f"\n## {check_id}\n", 1)[1].split("\n## ", 1)[0]
        assert "**Data needed:**" in section and "**IAM permissions:**" in section
        assert "**Savings formula:**" in section and "MISSING" not in section
        for name in cls.Params.model_fields:
            assert f"| `{name}` |" in section


def test_cli_writes_the_same_page(tmp_path):
    out = tmp_path / "checks.md"
    done = run_cli("checks", "docs", "--write", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text() == render_checks_markdown()
