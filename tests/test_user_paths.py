"""Where aifinops keeps this user's files (config.user_dir, config.env_path), read by the store, the Cost
Explorer answer cache, the refreshed price snapshot and the demo files: the platform's data or cache folder
(XDG on Linux), each overridden by its own environment variable. Expected paths are written out by hand."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from aifinops.aws.ce_client import default_cache_dir
from aifinops.config import default_store_path
from aifinops.demo import demo_version
from aifinops.pricing.catalog import overlay_path

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG folders are Linux's")


def test_defaults_are_the_xdg_folders(tmp_path, monkeypatch):
    for name in ("AIFINOPS_STORE", "AIFINOPS_CE_CACHE", "AIFINOPS_PRICES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_store_path() == tmp_path / "data" / "aifinops" / "aifinops.duckdb"
    assert overlay_path() == tmp_path / "data" / "aifinops" / "prices.csv"
    assert default_cache_dir() == tmp_path / "cache" / "aifinops" / "cost-explorer"


def test_each_variable_overrides_its_path_and_an_empty_one_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("AIFINOPS_STORE", "~/stores/a.duckdb")
    monkeypatch.setenv("AIFINOPS_PRICES", str(tmp_path / "p.csv"))
    monkeypatch.setenv("AIFINOPS_CE_CACHE", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_store_path() == tmp_path / "home" / "stores" / "a.duckdb"
    assert overlay_path() == tmp_path / "p.csv"
    assert default_cache_dir() == tmp_path / "cache" / "aifinops" / "cost-explorer"


def test_the_demo_files_go_under_the_cache_folder(demo_store):
    from aifinops.demo import demo_dir

    # conftest points XDG_CACHE_HOME at the session's cache, where demo_store already wrote the demo files
    cache = Path(os.environ["XDG_CACHE_HOME"])
    assert demo_dir() == cache / "aifinops" / f"demo-{demo_version()}"
