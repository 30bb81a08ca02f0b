"""Turn the paths a user gives (files, folders, globs) into the billing files to read.

Folders are walked recursively in the layouts AWS delivers: CUR 2.0 / FOCUS Data Exports
``…/data/BILLING_PERIOD=YYYY-MM/*.parquet|*.csv.gz`` and legacy CUR
``…/YYYYMMDD-YYYYMMDD/<assemblyId>/*.csv.gz`` with a manifest, where only the files that the
month's current manifest names count (see cur_legacy.select_current_assemblies).
"""

from __future__ import annotations

import glob
import gzip
import zlib
from pathlib import Path

from aifinops.errors import InputError
from aifinops.ingest.validate import refuse_special_file

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
    if sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        raise InputError(
            f"{path}: a JSON document, not a billing file (nor a Cost Explorer answer or an export manifest).",
            "pass the export's data files (.parquet, .csv.gz), its -Manifest.json, or a saved "
            "`aws ce get-cost-and-usage` answer.",
        )
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


def text_head(path: Path, size: int = 65536) -> str | None:
    """The first ``size`` characters of a text file, gunzipped when it is gzip (told by its magic bytes, not its
    name), a UTF-8 BOM dropped and undecodable bytes replaced; None when it cannot be read. For the loaders that
    recognise their files by content."""
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
            return fh.read(size)
    except (OSError, EOFError, zlib.error):
        return None


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
                refuse_special_file(match)
                found.extend(_expand_one(match))
            continue
        path = Path(text).expanduser()
        if not path.exists():
            raise InputError(
                f"{path}: no such file or folder.", "check the path (billing exports end in .parquet or .csv.gz)."
            )
        refuse_special_file(path)
        if is_manifest(path):
            found.extend(manifest_data_files(path))
            continue
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


# --- manifests ------------------------------------------------------------------------------------


def is_manifest(path: Path) -> bool:
    """A Data Exports (``dataFiles``) or legacy CUR (``reportKeys``) manifest given as an input."""
    if not (path.is_file() and path.name.lower().endswith(".json")):
        return False
    with path.open("rb") as fh:
        head = fh.read(65536)
    return b'"dataFiles"' in head or b'"reportKeys"' in head


def manifest_data_files(manifest: Path) -> list[Path]:
    """The local data files a manifest names, in the layout AWS delivers them.

    Data Exports (CUR 2.0, FOCUS): ``<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json``
    lists ``dataFiles`` as full S3 URIs ``s3://bucket/<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/…``;
    each is looked for below the local export folder (the part from ``data/`` on), then beside the
    manifest. Legacy CUR: ``reportKeys`` below the month folder (cur_legacy.manifest_report_files).
    """
    from aifinops.ingest.cur_legacy import manifest_report_files

    data = _read_manifest(manifest)
    if "reportKeys" in data:
        return sorted(manifest_report_files(manifest))
    uris = data.get("dataFiles")
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise InputError(
            f"{manifest}: its dataFiles is not a list of file names.",
            "download the manifest again from the export's metadata/ folder.",
        )
    if not uris:
        raise InputError(
            f"{manifest}: the manifest lists no data files (an export execution with no rows).",
            "pass another billing period's manifest or the export folder.",
        )
    root = manifest.parent.parent.parent if manifest.parent.parent.name == "metadata" else manifest.parent
    files: list[Path] = []
    missing: list[Path] = []
    for uri in uris:
        parts = [p for p in uri.split("://", 1)[-1].split("/") if p]
        below = parts[parts.index("data"):] if "data" in parts else parts[-1:]
        candidates = [root.joinpath(*below), manifest.parent / parts[-1]]
        local = next((c for c in candidates if c.is_file()), None)
        (files if local else missing).append(local or candidates[0])
    if missing:
        raise InputError(
            f"{manifest}: {len(missing)} of its {len(uris)} data file(s) are not here (first: {missing[0]}).",
            "download the export folder whole: metadata/ and data/ side by side, as AWS delivers them.",
        )
    return files


def _read_manifest(manifest: Path) -> dict:
    import json

    try:
        data = json.loads(manifest.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"{manifest}: not a readable export manifest ({type(exc).__name__}).",
            "download it again from the export's metadata/ folder.",
        ) from exc
    if not isinstance(data, dict):
        raise InputError(f"{manifest}: not an export manifest (a JSON list).", "pass the -Manifest.json AWS wrote.")
    return data
