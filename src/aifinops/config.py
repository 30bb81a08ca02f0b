"""Settings: where the store lives and the defaults every command shares."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import platformdirs

STORE_ENV = "AIFINOPS_STORE"

# A 730-hour month is the convention of AWS pricing pages and Cost Explorer forecasts.
HOURS_PER_MONTH = 730.0


def user_dir(kind: Literal["data", "cache"]) -> Path:
    """aifinops's own folder of this user's ``data`` (the store, a refreshed price snapshot) or ``cache`` (saved
    Cost Explorer answers, the demo files), where the platform keeps them (platformdirs; on Linux
    ``~/.local/share/aifinops`` and ``~/.cache/aifinops``)."""
    where = platformdirs.user_data_dir if kind == "data" else platformdirs.user_cache_dir
    return Path(where("aifinops", appauthor=False))


def env_path(env: str, default: Path) -> Path:
    """The path in the environment variable ``env`` (``~`` expanded) when it is set and not empty, else ``default``."""
    value = os.environ.get(env)
    return Path(value).expanduser() if value else default


def default_store_path() -> Path:
    """The store named by $AIFINOPS_STORE, else ``<user data dir>/aifinops/aifinops.duckdb``."""
    return env_path(STORE_ENV, user_dir("data") / "aifinops.duckdb")
