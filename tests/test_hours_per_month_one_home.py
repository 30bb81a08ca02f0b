"""The 730-hour month has one home, config.HOURS_PER_MONTH: no other module of src/aifinops assigns a
HOURS_PER_MONTH of its own or writes the number 730 (simulate/base.py did both)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parent.parent / "src" / "aifinops"


def copies(source: str) -> list[str]:
    """Where ``source`` writes the number 730 or assigns a HOURS_PER_MONTH."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 730:
            found.append(f"line {node.lineno}: the number 730")
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        found += [f"line {node.lineno}: assigns HOURS_PER_MONTH" for t in targets
                  if isinstance(t, ast.Name) and t.id == "HOURS_PER_MONTH"]
    return found


def test_only_config_holds_the_730_hour_month():
    found = [f"{path.relative_to(SRC)} {where}" for path in sorted(SRC.rglob("*.py")) if path != SRC / "config.py"
             for where in copies(path.read_text())]
    assert found == [], "\n".join(found)


def test_the_checker_sees_a_planted_copy():
    assert copies("from x import HOURS_PER_MONTH\nDAYS = HOURS_PER_MONTH / 24\n") == []
    assert copies("HOURS_PER_MONTH = 730.0\nmonthly = rate * 730\nn: int = 7300\n") == [
        "line 1: assigns HOURS_PER_MONTH", "line 1: the number 730", "line 2: the number 730"]
