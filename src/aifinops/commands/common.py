"""What every CLI command shares: consoles, the --store option, output and format helpers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from aifinops.errors import ArgumentError
from aifinops.store import Store

out = Console()
err = Console(stderr=True)

StoreOpt = Annotated[
    Path | None, typer.Option("--store", envvar="AIFINOPS_STORE", help="DuckDB store file (default: user data dir).")
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="rich | json | markdown | csv")]


def store_of(path: Path | None) -> Store:
    return Store(path)


def progress_bar() -> tuple[Progress, Any]:
    """A progress bar on stderr (shown only on a terminal) and the callback the library calls."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def report(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=max(total, 1))
        bar.update(tasks[what], completed=done, total=max(total, 1))

    return bar, report


def emit(text: str, output: Path | None) -> None:
    if output:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text)
        except OSError as exc:
            raise ArgumentError(
                f"Cannot write {output}: {exc.strerror}.", "pass --output in a writable folder."
            ) from exc
        err.print(f"Wrote {output}")
    else:
        sys.stdout.write(text)


def say_demo(store: Store) -> None:
    err.print(f"[yellow]Using the embedded demo account[/] (no input given; store {store.path}).")


def format_for(fmt: str | None, output: Path | None, allowed: tuple[str, ...]) -> str:
    if fmt is None:
        suffix = output.suffix.lower() if output else ""
        fmt = {".json": "json", ".md": "markdown", ".csv": "csv"}.get(suffix, "rich")
    if fmt not in allowed:
        raise ArgumentError(f"Unknown format {fmt!r}.", f"use one of: {', '.join(allowed)}.")
    return fmt
