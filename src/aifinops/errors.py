"""Exceptions that carry what went wrong and how to fix it.

Every error a user can cause (bad file, bad argument, AWS refusal) is an ``AifinopsError``:
the CLI prints its one-line message and exits with code 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AifinopsError(Exception):
    """A user-facing error: ``problem`` names what is wrong, ``fix`` says what to do."""

    exit_code = 2

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.problem} To fix: {self.fix}" if self.fix else self.problem


class InputError(AifinopsError):
    """A billing file or folder that cannot be read as what it claims to be."""


class StoreError(AifinopsError):
    """The DuckDB store cannot be opened, is locked, or has an unknown schema."""


class ArgumentError(AifinopsError):
    """A bad argument to a library function, CLI command or MCP tool."""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean X?' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
