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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def open_atomically(path: Path, *, prefix: str | None = None) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: a temporary file in the same folder, which
    replaces `path` when the block ends without an error and is removed if it raises, so a
    big file can be streamed and still never be seen half written.

    `prefix` names the temporary file (default: a dot and the target's name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes, *, prefix: str | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder (no half files).

    `prefix` names the temporary file (default: a dot and the target's name)."""
    with open_atomically(path, prefix=prefix) as fh:
        fh.write(data)
