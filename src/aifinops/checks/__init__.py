"""Waste checks: one module per pattern, registered by id (see ``base``).

Importing this package imports every check module in it, so the registry is complete; a new
check only needs its own file with an ``@register`` class.
"""

from __future__ import annotations

import importlib
import pkgutil

from aifinops.checks.base import (
    REGISTRY,
    Check,
    CheckContext,
    CheckError,
    CheckRun,
    SkippedCheck,
    Window,
    deduplicate,
    explain_check,
    get_check,
    list_checks,
    register,
    run_checks,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "REGISTRY",
    "Check",
    "CheckContext",
    "CheckError",
    "CheckRun",
    "SkippedCheck",
    "Window",
    "deduplicate",
    "explain_check",
    "get_check",
    "list_checks",
    "register",
    "run_checks",
]
