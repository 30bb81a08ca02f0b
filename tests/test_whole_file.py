"""aifinops.whole_file.replace_file, used by the snapshot writer, the price refresh and the Cost Explorer cache:
a file is replaced whole or left as it was, and no temporary file stays behind either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifinops.whole_file import replace_file


def test_a_write_replaces_the_file_in_one_step(tmp_path):
    target = tmp_path / "prices.csv"
    target.write_text("old\n")
    replace_file(target, lambda p: p.write_text("new\n"))
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prices.csv"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    target = tmp_path / "manifest.json"
    target.write_text("old\n")

    def half(p: Path) -> None:
        p.write_text("half of the ne")
        raise error

    with pytest.raises(type(error)):
        replace_file(target, half)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]
