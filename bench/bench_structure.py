"""Structure figures of a checkout (issue 13's closing note): mypy errors, import cycles among aifinops modules,
imports inside functions, and the pairs ``duplicates`` lists on src/.

    python bench/bench_structure.py                      # this checkout
    python bench/bench_structure.py --root /tmp/wt-old --mypy-config pyproject.toml
                                                         # an older worktree, with this checkout's mypy settings

mypy runs as ``python -m mypy`` in the root (its own pyproject's [tool.mypy]; ``--mypy-config FILE`` names another
one, for a revision that had none). The import graph is built with ``ast`` over src/aifinops: an edge per import of
an aifinops module (``from aifinops.x import y`` goes to aifinops.x.y when that is a module, else to aifinops.x;
relative imports resolved; a parent package's ``__init__`` is not counted as imported). "Module-level" imports run
when the module is imported (outside any function, and outside ``if TYPE_CHECKING:``); "all" adds the imports
inside functions and the TYPE_CHECKING ones. Cycles are the strongly connected components of more than one module.
``duplicates`` runs with ``--most 200 --seconds 120`` on src/; its rows are counted, never classified here.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def mypy_errors(root: Path, config: Path | None) -> tuple[int, int, str, float, float]:
    """(errors, files with errors, mypy's summary line, wall s, CPU s)."""
    command = [sys.executable, "-m", "mypy"]
    if config is not None:
        command += ["--config-file", str(config.resolve()), "src/aifinops"]
    cpu, started = _child_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=1800)
    wall, cpu = time.perf_counter() - started, _child_cpu() - cpu
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else done.stderr.strip()
    errors = sum(1 for line in lines if re.search(r":\d+: error:", line))
    files = len({line.split(":", 1)[0] for line in lines if re.search(r":\d+: error:", line)})
    return errors, files, summary, wall, cpu


def _modules(src: Path) -> dict[str, Path]:
    found = {}
    for path in sorted((src / "aifinops").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import with (inside a function, under TYPE_CHECKING)."""
    out: list[tuple[ast.Import | ast.ImportFrom, bool, bool]] = []

    def walk(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                out.append((child, in_function, type_checking))
            walk(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda),
                 type_checking or (isinstance(child, ast.If) and _is_type_checking(child)))

    walk(tree, False, False)
    return out


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> list[str]:
    def existing(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    if isinstance(node, ast.Import):
        return [t for alias in node.names if (t := existing(alias.name)) and alias.name.startswith("aifinops")]
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if not base.startswith("aifinops"):
        return []
    out = []
    for alias in node.names:
        target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else existing(base)
        if target:
            out.append(target)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(10000)

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found, key=lambda c: (-len(c), c))


def import_figures(root: Path) -> dict[str, object]:
    modules = _modules(root / "src")
    known = set(modules)
    module_level: dict[str, set[str]] = defaultdict(set)
    every: dict[str, set[str]] = defaultdict(set)
    in_functions = in_functions_own = 0
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, in_function, type_checking in _imports(tree):
            targets = [t for t in _targets(node, name, path.name == "__init__.py", known) if t != name]
            in_functions += in_function
            in_functions_own += in_function and bool(targets)
            every[name].update(targets)
            if not in_function and not type_checking:
                module_level[name].update(targets)
    return {
        "modules": len(modules),
        "edges_module_level": sum(len(v) for v in module_level.values()),
        "edges_all": sum(len(v) for v in every.values()),
        "cycles_module_level": _cycles(module_level),
        "cycles_all": _cycles(every),
        "imports_in_functions": in_functions,
        "imports_in_functions_of_aifinops": in_functions_own,
    }


def duplicate_figures(root: Path) -> dict[str, object]:
    cpu, started = _child_cpu(), time.perf_counter()
    done = subprocess.run(["duplicates", "--repo", str(root / "src"), "--most", "200", "--seconds", "120"],
                          capture_output=True, text=True, timeout=600)
    wall, cpu = time.perf_counter() - started, _child_cpu() - cpu
    lines = done.stdout.splitlines()
    rows = [line for line in lines if re.match(r"D\d+ ", line)]
    more = sum(int(m.group(1)) for line in lines if (m := re.match(r"\(\+(\d+) more pairs\)", line.strip())))
    return {
        "headline": lines[0] if lines else done.stderr.strip(),
        "rows": len(rows),
        "rows_identical": sum(1 for r in rows if " shape" not in r),
        "rows_shape": sum(1 for r in rows if " shape" in r and "boilerplate" not in r),
        "rows_shape_boilerplate": sum(1 for r in rows if "boilerplate" in r),
        "more_pairs": more,
        "notes": [line for line in lines if line.startswith(("left out:", "incomplete:"))],
        "wall": wall,
        "cpu": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1], help="the checkout")
    parser.add_argument("--mypy-config", type=Path, help="a pyproject/mypy config to use instead of the root's")
    parser.add_argument("--skip-mypy", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    head = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %ad", "--date=iso"],
                          capture_output=True, text=True).stdout.strip()
    print(f"root {root} at {head}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.skip_mypy:
        errors, files, summary, wall, cpu = mypy_errors(root, args.mypy_config)
        print(f"mypy: {errors} errors in {files} files ({summary}); {wall:.0f} s wall, {cpu:.0f} s CPU")
    imports = import_figures(root)
    print(f"import graph: {imports['modules']} aifinops modules; edges {imports['edges_module_level']} module-level, "
          f"{imports['edges_all']} all")
    for kind in ("module_level", "all"):
        cycles = imports[f"cycles_{kind}"]
        assert isinstance(cycles, list)
        print(f"cycles ({kind.replace('_', '-')} imports): {len(cycles)} components of more than one module, "
              f"{sum(len(c) for c in cycles)} modules in them")
        for component in cycles:
            print(f"  {len(component)}: {' '.join(m.removeprefix('aifinops.') for m in component)}")
    print(f"imports inside functions: {imports['imports_in_functions']} "
          f"({imports['imports_in_functions_of_aifinops']} of them import aifinops modules)")
    dup = duplicate_figures(root)
    print(f"duplicates on src/: {dup['headline']}")
    print(f"  rows listed {dup['rows']} (identical {dup['rows_identical']}, shape {dup['rows_shape']}, "
          f"shape+boilerplate {dup['rows_shape_boilerplate']}), more pairs not listed {dup['more_pairs']}; "
          f"{dup['wall']:.0f} s wall, {dup['cpu']:.0f} s CPU")
    notes = dup["notes"]
    assert isinstance(notes, list)
    for note in notes:
        print(f"  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
