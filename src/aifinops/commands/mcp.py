"""CLI: ``aifinops mcp`` serves the MCP tools over stdio (default) or streamable HTTP on 127.0.0.1."""

from __future__ import annotations

from typing import Annotated

import typer

from aifinops.commands.aws import DaysOpt, ProfileOpt, RegionOpt, RoleOpt
from aifinops.commands.common import StoreOpt, err, store_of
from aifinops.errors import ArgumentError


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp_command)


def mcp_command(
    ctx: typer.Context,
    transport: Annotated[str, typer.Option("--transport", "-t", help="stdio | http (streamable HTTP)")] = "stdio",
    port: Annotated[int, typer.Option("--port", "-p", help="HTTP port on 127.0.0.1.")] = 8765,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help=(
        "HTTP server processes sharing the port (stateless); default 1."))] = 1,
    aws: Annotated[bool, typer.Option("--aws", help="Collect from live AWS (read-only) into the store first.")] = False,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    role_arn: RoleOpt = None,
    days: DaysOpt = 14,
    store: StoreOpt = None,
) -> None:
    """Serve the guide's MCP tools and the high-level cost tools from the store (the demo account by default)."""
    from aifinops.mcp_server import default_store_note, serve
    from aifinops.workspace import ensure_data

    if transport not in ("stdio", "http"):
        raise ArgumentError(f"Unknown transport {transport!r}.", "use --transport stdio or --transport http.")
    if not 1 <= port <= 65535:
        raise ArgumentError(f"Port {port} is out of range.", "pass --port between 1 and 65535.")
    st = store_of(store)
    if aws:
        from aifinops.aws.collect import CollectOptions, collect

        collect(st, CollectOptions(profile=profile, regions=region or [], role_arns=role_arn or [], days=days))
        err.print(f"Collected from AWS into {st.path}.")
    elif ensure_data(st):
        err.print(f"[yellow]Serving the embedded demo account[/] (store {st.path}).")
    if transport == "http":
        err.print(f"MCP over streamable HTTP at http://127.0.0.1:{port}/mcp")
    # Without --store the first answer of each session names the store, so a client that does not pass the
    # shell's environment (and so gets the default store) sees which one answered.
    # By name: typer may carry its own copy of click's ParameterSource enum.
    given = getattr(ctx.get_parameter_source("store"), "name", "") == "COMMANDLINE"
    note = None if given else default_store_note(st)
    serve(st, "stdio" if transport == "stdio" else "http", port, store_note=note, workers=workers)
