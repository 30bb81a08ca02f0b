"""Turn the paths a user gives (files, folders, globs) into the billing files to read.

Folders are walked recursively in the layouts AWS delivers: CUR 2.0 / FOCUS Data Exports
``…/data/BILLING_PERIOD=YYYY-MM/*.parquet|*.csv.gz`` and legacy CUR
``…/YYYYMMDD-YYYYMMDD/<assemblyId>/*.csv.gz`` with a manifest, where only the files that the
month's current manifest names count (see cur_legacy.select_current_assemblies).
"""

from __future__ import annotations

import glob
from pathlib import Path

from aifinops.errors import InputError

BILLING_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".csv.zip", ".gz")


def file_kind(path: Path) -> str:
    """'parquet' | 'csv' | 'csv.gz' from magic bytes (the extension can lie)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
            sample = head + fh.read(4096)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).", "check the path and its permissions.") from exc
    if not head:
        raise InputError(
            f"{path}: the file is empty (0 bytes).", "re-download the export; AWS never writes empty files."
        )
    if head == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    if head[:2] == b"PK":
        raise InputError(f"{path}: a ZIP archive.", "unzip it and pass the CSV inside.")
    if path.name.endswith(".parquet"):
        raise InputError(
            f"{path}: not a Parquet file (no PAR1 header).", "re-download the export; this one is damaged."
        )
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        if b"\x00" in sample or len(sample) < 4096:
            raise InputError(
                f"{path}: a binary file, neither Parquet nor CSV.", "pass a billing export (.parquet, .csv or .csv.gz)."
            ) from None
    return "csv"


def _is_billing_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(BILLING_SUFFIXES) and not name.startswith((".", "_"))


def expand_inputs(paths: list[str | Path]) -> list[Path]:
    """Billing files under the given paths, sorted, each once; a clear error for a bad path."""
    from aifinops.ingest.cur_legacy import select_current_assemblies

    found: list[Path] = []
    for raw in paths:
        text = str(raw)
        if any(ch in text for ch in "*?["):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise InputError(
                    f"{text}: the pattern matches no file.", "check the pattern, or quote it for the shell."
                )
            for match in matches:
                found.extend(_expand_one(match))
            continue
        path = Path(text).expanduser()
        if not path.exists():
            raise InputError(
                f"{path}: no such file or folder.", "check the path (billing exports end in .parquet or .csv.gz)."
            )
        found.extend(_expand_one(path))
    unique = sorted({p.resolve() for p in found})
    unique = select_current_assemblies(unique)
    if not unique:
        raise InputError(
            f"No billing files (.parquet, .csv, .csv.gz) under {', '.join(map(str, paths))}.",
            "pass the folder of an AWS Data Export or the files themselves.",
        )
    return unique


def _expand_one(path: Path) -> list[Path]:
    if path.is_dir():
        return [p for p in path.rglob("*") if _is_billing_file(p)]
    return [path]
