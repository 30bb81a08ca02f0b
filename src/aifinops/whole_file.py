"""Files replaced whole or not at all: written beside the target under a hidden temporary name, then renamed
over it in one step (``os.replace``), so a reader, a crash or an interrupt never leaves half a file. Used by
the snapshot writer, the price snapshot refresh and the Cost Explorer answer cache.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` with a temporary path in ``path``'s folder, then move what it wrote onto ``path``; on any
    failure the temporary file is removed and ``path`` is left as it was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
