"""A backup that carries the evidence files: a zip of `backup.json` and `evidence/<sha256>`.

The JSON is the backup of `riskmap.backup` (keyed digest and all); every evidence file an
item names travels under its SHA-256. On restore each file is re-hashed and must match its
name, every file an item names must be there, and the zip is read within the bounds of
`riskmap.reports.safety` (declared sizes, ratio, entry count) before anything is
decompressed: a file that fails any check refuses the whole restore, before a row or a
file is written.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO

from riskmap.evidence_files import EvidenceStore
from riskmap.reports.safety import MAX_ENTRIES, ZIP_MAGIC, open_zip

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from riskmap.backup_write import Written

JSON_NAME = "backup.json"
_FILE = re.compile(r"^evidence/([0-9a-f]{64})$")
MAX_TOTAL_BYTES = 20 * 1024**3  # all entries together, as declared
# A backup's zip faults (`safety.zip_faults`) in its words.
_REFUSALS = {
    "damaged": "the backup is a damaged zip archive ({detail})",
    "entries": "the backup has {amount} entries: too many",
    "total": "the backup would expand past 20 GB (zip bomb?)",
    "encrypted": "entry {part} is encrypted: riskmap never writes one, not a riskmap backup",
    "ratio": "entry {part} is compressed too much (zip bomb?)",
}


class BackupFilesError(ValueError):
    """The zip cannot be restored (nothing was written); `str()` says why."""


def is_zip(raw: bytes) -> bool:
    return raw.startswith(ZIP_MAGIC)


def referenced(data: dict) -> list[str]:
    """The SHA-256 of every file the backup's evidence items name, in order, once each."""
    rows = (data.get("tables") or {}).get("evidence_items") or []
    return list(dict.fromkeys(named_files(r.get("sha256") for r in rows if isinstance(r, dict))))


def named_files(shas: Iterable[str | None]) -> list[str]:
    """The files evidence items name, from their `sha256` (an item with no file names none):
    the files a zip backup carries."""
    return [sha for sha in shas if sha]


def pack(out: BinaryIO, session: Session, store: EvidenceStore) -> Written:
    """Write the zip to `out`: the backup of the session's database, streamed into its
    entry (`riskmap.backup_write`), then every evidence file it names, read (and checked)
    from `store`."""
    from riskmap.backup_write import write

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(JSON_NAME, "w", force_zip64=True) as entry:
            written = write(session, entry)
        for sha in written.evidence:
            archive.writestr(f"evidence/{sha}", store.read(sha))  # refuses a changed/missing file
    return written


def unpack(raw: bytes) -> tuple[dict, dict[str, bytes]]:
    """The backup's JSON and its files by hash, each checked; `BackupFilesError` if not."""
    limits = {"max_entries": MAX_ENTRIES * 100, "max_total": MAX_TOTAL_BYTES}
    with open_zip(raw, _REFUSALS, BackupFilesError, **limits) as archive:
        names = {i.filename for i in archive.infolist()}
        if JSON_NAME not in names:
            raise BackupFilesError(f"the zip holds no {JSON_NAME}: not a riskmap backup")
        try:
            data = json.loads(archive.read(JSON_NAME).decode("utf-8"))
            files: dict[str, bytes] = {}
            for name in sorted(names - {JSON_NAME}):
                match = _FILE.match(name)
                if match is None:
                    raise BackupFilesError(f"the backup holds {name!r}, which no backup writes")
                body = archive.read(name)
                if hashlib.sha256(body).hexdigest() != match.group(1):
                    raise BackupFilesError(
                        f"evidence file {match.group(1)} does not match its hash: it changed"
                    )
                files[match.group(1)] = body
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
            raise BackupFilesError(f"the backup cannot be read ({exc})") from None
        except (json.JSONDecodeError, RecursionError) as exc:
            raise BackupFilesError(f"{JSON_NAME} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BackupFilesError(f"{JSON_NAME} is not a riskmap backup")
    missing = [sha for sha in referenced(data) if sha not in files]
    if missing:
        raise BackupFilesError(
            f"{len(missing)} evidence file(s) named by items are not in the backup: "
            + ", ".join(missing[:5])
        )
    return data, files
