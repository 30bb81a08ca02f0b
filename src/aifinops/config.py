"""Settings: where the store lives and the defaults every command shares."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

STORE_ENV = "AIFINOPS_STORE"

# A 730-hour month is the convention of AWS pricing pages and Cost Explorer forecasts.
HOURS_PER_MONTH = 730.0


def default_store_path() -> Path:
    """The store named by $AIFINOPS_STORE, else ``<user data dir>/aifinops/aifinops.duckdb``."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("aifinops", appauthor=False)) / "aifinops.duckdb"
