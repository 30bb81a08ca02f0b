"""Answers kept per version of the store file, for the servers (the MCP server and the dashboard).

The same question on the same data gets the same answer, so a server that answers many clients keeps its last
answers and serves a repeat without asking DuckDB again. An answer is kept for one version of the store file
(inode, modification time, size: ``Store.file_version``); the first answer for another version drops them
all, so an ingest that swapped a new file in is read by the next question. A question is a canonical JSON key
(``key``); one that does not serialize, or a store whose version cannot be read, is never kept. Only answers
that depend on the data alone may be kept: a server answers questions that also read the clock afresh.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Generic, TypeVar

from aifinops.answers.args import json_default
from aifinops.store import Store

T = TypeVar("T")


class KeptAnswers(Generic[T]):
    """The last ``MAX`` answers (least recently used evicted first) for the latest version of the store file."""

    MAX = 512

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: Any = None
        self.kept: dict[str, T] = {}

    @staticmethod
    def key(*parts: Any) -> str | None:
        """The question's canonical key, or None when a part does not serialize (then it is never kept)."""
        try:
            return json.dumps(list(parts), sort_keys=True, default=json_default, separators=(",", ":"))
        except (TypeError, ValueError):
            return None

    def get(self, version: Any, key: str | None) -> T | None:
        if key is None or version is None:
            return None
        with self.lock:
            if version != self.version:
                return None
            answer = self.kept.pop(key, None)
            if answer is not None:
                self.kept[key] = answer  # the most recently used is evicted last
            return answer

    def put(self, version: Any, key: str | None, answer: T) -> None:
        if key is None or version is None:
            return
        with self.lock:
            if version != self.version:
                self.kept.clear()
                self.version = version
            self.kept[key] = answer
            while len(self.kept) > self.MAX:
                self.kept.pop(next(iter(self.kept)))


def store_version(store: Store) -> tuple[int, int, int] | None:
    """The store file's version, or None when it cannot be read (nothing is kept; the read then says why)."""
    try:
        return store.file_version()
    except OSError:
        return None
