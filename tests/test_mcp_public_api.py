"""The MCP server uses the SDK's public API only, and still refuses unknown arguments clearly.

The refusal is checked through the SDK's in-memory client (the real surface); "public only" is checked
over the source with ``ast``: no private attribute of anything but the server module's own names.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from aifinops.mcp_server import build_server
from aifinops.store import Store

SERVER = Path(__file__).parent.parent / "src" / "aifinops" / "mcp_server.py"


@pytest.fixture(scope="module")
def store(demo_store: Store) -> Store:
    return demo_store  # the session's demo store, read-only (conftest)


def test_the_server_touches_no_private_sdk_attribute():
    tree = ast.parse(SERVER.read_text())
    own = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    private = sorted({n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                      and n.attr.startswith("_") and not n.attr.startswith("__") and n.attr not in own})
    assert private == [], f"mcp_server.py reaches into private SDK attributes: {private}"
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("mcp")
                for a in n.names]
    assert not [name for name in imported if name.startswith("_")], imported


def _calls(store: Store, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[Any], list[tuple[bool, str]]]:
    async def main() -> tuple[list[Any], list[tuple[bool, str]]]:
        async with Client(build_server(store)) as client:
            tools = (await client.list_tools()).tools
            answers = []
            for name, args in calls:
                result = await client.call_tool(name, args)
                answers.append((bool(result.is_error), result.content[0].text))
            return tools, answers

    return anyio.run(main)


def test_unknown_arguments_are_refused_before_validation_with_the_fix(store):
    tools, answers = _calls(store, [
        ("list_dashboards", {"dashbord_name_prefix": "AI"}),
        ("get_dashboard", {"dashboard_nme": "AICostOptimization"}),  # its one required argument is missing too
        ("list_dashboards", {"dashboard_name_prefix": "AI"}),
    ])
    assert answers[0] == (True, "list_dashboards takes no argument 'dashbord_name_prefix'. Did you mean "
                                "'dashboard_name_prefix'? To fix: use only dashboard_name_prefix, next_token.")
    assert answers[1] == (True, "get_dashboard takes no argument 'dashboard_nme'. "
                                "Did you mean 'dashboard_name'? To fix: use only dashboard_name.")
    is_error, text = answers[2]
    assert not is_error and isinstance(json.loads(text), dict)
    for t in tools:
        assert t.input_schema["additionalProperties"] is False, t.name
