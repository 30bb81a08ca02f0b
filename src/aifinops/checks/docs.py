"""docs/checks.md, generated from the check registry: every check's contract in one page.

``render_checks_markdown()`` writes, per check: id, title, description, the data it needs, its
parameters (type, default, where the default comes from), the IAM permissions running it live
implies, and its savings formula. ``missing_parts()`` names what a check lacks; a test fails on
any, and on a docs/checks.md that differs from what this renders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aifinops.checks._confidence import RULE

DOCS_PATH = Path("docs") / "checks.md"
_DATA = {
    "billing": "billing (CUR 2.0 / legacy CUR / FOCUS)",
    "inventory": "inventory (`aifinops collect`)",
    "metrics": "metrics (CloudWatch)",
}


def _registry() -> dict[str, Any]:
    from aifinops.checks import REGISTRY  # the package import fills the registry

    return REGISTRY


def missing_parts(cls: Any) -> list[str]:
    """The parts of the documented contract a check class lacks (empty when complete)."""
    missing = []
    if not getattr(cls, "title", ""):
        missing.append("title")
    if not getattr(cls, "needs", None):
        missing.append("needs")
    if not getattr(cls, "iam_permissions", None) and not getattr(cls, "iam_note", ""):
        missing.append("iam_permissions or iam_note")
    if not getattr(cls, "savings_formula", ""):
        missing.append("savings_formula")
    if not (cls.__doc__ or "").strip():
        missing.append("docstring")
    for name, field in cls.Params.model_fields.items():
        if not field.description:
            missing.append(f"description of parameter {name}")
    return missing


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(field: Any) -> str:
    value = field.get_default(call_default_factory=True)
    return "`" + json.dumps(value, default=str) + "`"


def render_checks_markdown() -> str:
    """The full text of docs/checks.md for the checks registered now."""
    registry = _registry()
    lines = [
        "# Checks",
        "",
        "Generated from the check registry by `aifinops checks docs --write`; do not edit by hand.",
        "Every check reads the store only and never changes AWS. Money is monthly on a 730-hour month.",
        "Findings are listed by monthly savings (descending), then monthly cost, check id and resource",
        "id; their numbers carry 10 significant digits, so the same store gives the same document whatever order",
        "its rows were written in.",
        "",
        "## Confidence",
        "",
        RULE,
        "",
        "## The checks",
        "",
        "| Check | Title | Needs |",
        "|---|---|---|",
    ]
    for check_id, cls in sorted(registry.items()):
        lines.append(f"| [`{check_id}`](#{check_id}) | {_cell(cls.title)} | {', '.join(sorted(cls.needs))} |")
    for check_id, cls in sorted(registry.items()):
        doc = (cls.__doc__ or "").strip().split("\n\n")
        summary = doc[0].strip()
        body = " ".join(line.strip() for line in doc[1].splitlines()) if len(doc) > 1 else ""
        if body.startswith("Example"):
            body = ""
        lines += ["", f"## {check_id}", "", f"**{cls.title}.** {' '.join(summary.split())}", ""]
        if body:
            lines += [body, ""]
        lines.append("- **Data needed:** " + ", ".join(_DATA.get(k, k) for k in sorted(cls.needs)))
        perms = ", ".join(f"`{p}`" for p in cls.iam_permissions) or "none"
        note = f" ({' '.join(cls.iam_note.split())})" if getattr(cls, "iam_note", "") else ""
        lines.append(f"- **IAM permissions:** {perms}{note}")
        formula = getattr(cls, "savings_formula", "") or "MISSING"
        lines.append(f"- **Savings formula:** {' '.join(formula.split())}")
        lines += ["", "| Parameter | Type | Default | Meaning and source of the default |", "|---|---|---|---|"]
        for name, field in cls.Params.model_fields.items():
            kind = getattr(field.annotation, "__name__", None) or str(field.annotation).replace("typing.", "")
            lines.append(f"| `{name}` | {_cell(kind)} | {_cell(_default(field))} | {_cell(field.description or '')} |")
    return "\n".join(lines) + "\n"


def write_checks_markdown(path: Path = DOCS_PATH) -> Path:
    """Write docs/checks.md (relative to the current folder unless ``path`` says otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_checks_markdown())
    return path
