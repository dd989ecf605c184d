"""Writing a file whole or not at all.

One home for the rule every writer of a file a person relies on keeps (exports, backups,
briefings, the evidence store): the bytes go to a temporary file in the same folder, which
then replaces the target in one step, so a crash or a full disk never leaves half a file
under the real name. Standard library only, so the command line can use it without
loading the service.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, prefix: str | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder (no half files).

    `prefix` names the temporary file (default: a dot and the target's name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
