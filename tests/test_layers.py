"""Layers that hold (DESIGN.md: inputs → store → analysis → outputs → faces), read from the source with ``ast``.

Every module of ``src/aifinops`` belongs to one layer. A module may import its own layer and the layers listed
as below it; inputs and analysis are siblings above the store and never import each other (analysis reads the
store, never a loader; a loader never asks an analysis). Every import counts, at the top of a module or inside
a function. Separately, no two modules may import each other, directly or around a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).parent.parent / "src"

# layer → the layers it may import (besides itself)
ALLOWED = {
    "base": set(),
    "store": {"base"},
    "inputs": {"base", "store"},
    "analysis": {"base", "store"},
    "outputs": {"base", "store", "inputs", "analysis"},
    "faces": {"base", "store", "inputs", "analysis", "outputs"},
}
# The first matching prefix decides (most specific first).
LAYERS = [
    ("aifinops.pricing.refresh", "inputs"),  # reads the Price List API into the bundled snapshot
    ("aifinops.pricing.seed", "base"),  # the price catalog's sourced data and columns, read by both sides
    ("aifinops.errors", "base"),
    ("aifinops.config", "base"),
    ("aifinops.model", "base"),
    ("aifinops.taxonomy", "base"),
    ("aifinops.billing_names", "base"),
    ("aifinops.paging", "base"),
    ("aifinops.money", "base"),  # the one money format, for analysis texts and outputs alike
    ("aifinops.dates", "base"),  # dates and times given as arguments, read one way by analysis and outputs
    ("aifinops.whole_file", "base"),  # files replaced whole or not at all (os.replace of a temporary file)
    ("aifinops.resource_types", "base"),  # the resource-type strings of the inventory and of findings
    ("aifinops.duck", "base"),  # the one way a DuckDB connection is opened (no progress bar on stdout)
    ("aifinops.sums", "base"),  # the SQL aggregate money is added with (order-independent), for every layer
    ("aifinops.store", "store"),
    ("aifinops.ingest", "inputs"),
    ("aifinops.aws", "inputs"),
    ("aifinops.demo", "inputs"),
    ("aifinops.engines", "inputs"),
    ("aifinops.rollup", "inputs"),
    ("aifinops.attribution", "inputs"),
    ("aifinops.workspace", "inputs"),
    ("aifinops.history", "inputs"),  # each scan's findings and the user's decisions on them, written to the store
    ("aifinops.costs", "analysis"),
    ("aifinops.checks", "analysis"),
    ("aifinops.pricing", "analysis"),
    ("aifinops.simulate", "analysis"),
    ("aifinops.monitor", "analysis"),
    ("aifinops.actions", "analysis"),  # the action plan: findings ranked by dollars, owners, first steps
    ("aifinops.tracking", "analysis"),  # realized vs predicted savings from the bill
    ("aifinops.report", "outputs"),
    ("aifinops.scan_text", "outputs"),
    ("aifinops.answers", "outputs"),  # the MCP tools' adapters (aifinops.mcp_server is a face)
    ("aifinops.scan", "outputs"),
    ("aifinops.finding_groups", "outputs"),  # many findings of one kind as one group in the scan document
    ("aifinops.mcp_server", "faces"),
    ("aifinops.web", "faces"),
    ("aifinops.http_guard", "faces"),
    ("aifinops.cli", "faces"),
    ("aifinops.commands", "faces"),
    ("aifinops", "base"),  # the package itself: its version
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "aifinops").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> str:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module} has no layer: add it to LAYERS in tests/test_layers.py")


def _resolve(name: str) -> str:
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def imports() -> dict[str, set[str]]:
    """module → the aifinops modules it imports (``from pkg import sub`` names the submodule)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("aifinops"):
                base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("aifinops")]
            edges[module] |= {_resolve(t) for t in targets} - {module}
    return edges


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def test_imports_point_down_the_layers():
    wrong = []
    for module, targets in imports().items():
        mine = layer_of(module)
        for target in sorted(targets):
            theirs = layer_of(target)
            if theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    assert _cycles(imports()) == []


def test_the_checker_sees_a_planted_circle_and_a_wrong_arrow():
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(planted) == [["a", "b", "c"]]
    assert layer_of("aifinops.store") == "store" and "inputs" not in ALLOWED["store"]
    assert "analysis" not in ALLOWED["inputs"] and "inputs" not in ALLOWED["analysis"]
