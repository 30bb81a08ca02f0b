"""What every CLI command shares: consoles, the --store option, output and format helpers."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aifinops.errors import ArgumentError

if TYPE_CHECKING:
    from rich.console import Console

    from aifinops.store import Store


class LazyConsole:
    """A rich Console made on its first use: a command that prints nothing through it (a scan written to
    ``--output`` as JSON) never imports rich (0.02 s of CPU)."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.console.print(*objects, **kwargs)

    def print_json(self, *args: Any, **kwargs: Any) -> None:
        self.console.print_json(*args, **kwargs)

    @property
    def width(self) -> int:
        return self.console.width


out = LazyConsole()
err = LazyConsole(stderr=True)


def escape(text: str) -> str:
    """rich.markup.escape, imported on first use as the consoles are."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def stderr_is_terminal() -> bool:
    """Whether rich shows colours and live bars on stderr (its rule, without importing rich): TTY_COMPATIBLE=1
    or 0 decides, else a non-empty FORCE_COLOR, else whether stderr is a terminal."""
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    try:
        return sys.stderr.isatty()
    except ValueError:  # a closed stream, as rich treats it
        return False

StoreOpt = Annotated[
    Path | None, typer.Option("--store", envvar="AIFINOPS_STORE", help="DuckDB store file (default: user data dir).")
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="rich | json | markdown | csv")]


# Store files this process created: a command that fails leaves none of them behind empty.
_NEW_STORES: list[Path] = []


def store_of(path: Path | None) -> Store:
    from aifinops.store import Store  # imports duckdb (0.1 s): only commands that open a store pay it, not --help

    st = Store(path)
    lock = st.path.with_name(st.path.name + ".lock")
    if not st.path.exists() and not lock.exists() and st.path not in _NEW_STORES:
        _NEW_STORES.append(st.path)
    return st


def discard_new_empty_stores() -> None:
    """After a failed command: remove the store files it created that hold no data (and their WAL)."""
    import duckdb

    from aifinops import duck
    from aifinops.store import DATA_TABLES

    for path in _NEW_STORES:
        lock = path.with_name(path.name + ".lock")
        if not path.exists():
            lock.unlink(missing_ok=True)  # the writer lock of a store that never came to be
            continue
        try:
            con = duck.connect(str(path), read_only=True)
            try:
                tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
                empty = all(
                    con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] == 0 for t in DATA_TABLES if t in tables
                )
            finally:
                con.close()
        except duckdb.Error:
            continue  # not ours to judge: leave it
        if empty:
            for leftover in (path, path.with_name(path.name + ".wal"), lock):
                leftover.unlink(missing_ok=True)


def plan_of(store: Store, doc: dict[str, Any]) -> dict[str, Any]:
    """The action plan over a scan document's findings (aifinops.actions), decisions on them applied."""
    from datetime import date

    from aifinops.actions import action_plan

    as_of = doc["source"].get("as_of")
    with store.connect(read_only=True) as con:
        return action_plan(con, doc["findings"], date.fromisoformat(as_of) if as_of else None)


def progress_bar() -> tuple[contextlib.AbstractContextManager[Any], Callable[[str, int, int], None]]:
    """A progress bar on stderr where a terminal shows it, and the callback the library calls; elsewhere
    neither draws nor imports anything (rich's bar, transient, left only a blank line in a file)."""
    if not stderr_is_terminal():
        return contextlib.nullcontext(), lambda what, done, total: None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err.console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def report(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=max(total, 1))
        bar.update(tasks[what], completed=done, total=max(total, 1))

    return bar, report


def emit_json(doc: Any, output: Path | None, ensure_ascii: bool = True) -> None:
    """An answer as indented JSON, its numbers rounded as every JSON answer's (answers.args.rounded_document: the
    HTTP API's rule, so ``--format json`` prints what the dashboard's /api answers)."""
    from aifinops.answers.args import rounded_document

    emit(json.dumps(rounded_document(doc), indent=2, default=str, ensure_ascii=ensure_ascii) + "\n", output)


def emit(text: str, output: Path | None) -> None:
    if output:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text)
        except OSError as exc:
            raise ArgumentError(
                f"Cannot write {output}: {exc.strerror}.", "pass --output in a writable folder."
            ) from exc
        if stderr_is_terminal():
            err.print(f"Wrote {output}")
        else:  # plain: rich, here, would wrap a long path at 80 columns and read '[x]' in it as markup
            sys.stderr.write(f"Wrote {output}\n")
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


def scanned_store(path: Path | None) -> Store:
    """The store, with the demo account and one recorded scan of it when it holds nothing yet."""
    from aifinops.workspace import ensure_data

    st = store_of(path)
    if ensure_data(st):
        say_demo(st)
    with st.connect(read_only=True) as con:
        runs = con.execute("SELECT count(*) FROM scan_runs").fetchall()[0][0]
    if not runs:
        from aifinops.scan import ScanInputs, run_scan

        err.print("No scan recorded in this store yet: scanning its data first (what `aifinops scan` does).")
        run_scan(st, ScanInputs())
    return st
