"""The evidence store: files kept by their SHA-256, checked by content before they are kept.

A file is stored once, under `<store>/<first two hex digits>/<sha256>`, however many
items cite it: the hash is the name, so a stored file can be checked against the database
(`verify`) and a copy an auditor received against the workbook. The store is a folder
beside the database (`evidence/` beside the SQLite file, `./data/evidence` otherwise), or
the folder `$RISKMAP_EVIDENCE_DIR` names.

An upload is refused before anything is written when it is over the size limit
(`$RISKMAP_EVIDENCE_MAX_BYTES`, default 25 MB), or when its *content* is not one of the
allowed kinds: PDF, PNG, JPEG, an office document (OOXML or ODF, checked as a zip with the
zip-bomb bounds of `riskmap.reports.safety`), an e-mail export (.msg: OLE compound file;
.eml: RFC 5322 headers). The name a user gave is never trusted for the type.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import URL

from riskmap.files import write_atomically
from riskmap.reports.safety import MAX_ENTRIES, OLE_MAGIC, ZIP_MAGIC, open_zip

ENV_DIR = "RISKMAP_EVIDENCE_DIR"
ENV_MAX = "RISKMAP_EVIDENCE_MAX_BYTES"
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
EXPIRING_DAYS = 60  # an item valid for fewer days than this is "expiring"
STATUSES = ("valid", "expiring", "expired")

# An office document's zip faults (`safety.zip_faults`) in its words.
_ZIP_REFUSALS = {
    "damaged": "the file is a damaged zip archive ({detail})",
    "entries": f"the document has {{amount}} parts, over {MAX_ENTRIES}",
    "total": "the document would expand past the limit (zip bomb?)",
    "encrypted": "part {part} is encrypted: remove the password",
    "ratio": "part {part} is compressed too much (zip bomb?)",
}
_SHA = re.compile(r"^[0-9a-f]{64}$")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]")  # an RFC 5322 field name and colon
_EML_FIELDS = re.compile(rb"^(from|date|subject|message-id|received|return-path):", re.I | re.M)
_MSG_STREAM = "__substg1.0_".encode("utf-16-le")
_OOXML_TYPES = {
    b"wordprocessingml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"spreadsheetml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    b"presentationml": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


class FileRefused(ValueError):
    """An upload riskmap will not store; `str()` says why in words a user can act on."""


def status(valid_until: date | None, today: date) -> str:
    """valid, expiring (fewer than EXPIRING_DAYS days left) or expired (after its day)."""
    if valid_until is None:
        return "valid"
    if valid_until < today:
        return "expired"
    if valid_until < today + timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "valid"


def max_bytes() -> int:
    raw = os.environ.get(ENV_MAX, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise FileRefused(f"${ENV_MAX} must be a positive whole number of bytes, got {raw!r}")
    return int(raw)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def media_type(data: bytes, limit: int | None = None) -> str:
    """The media type of `data` judged by its content, or `FileRefused` saying why not."""
    most = max_bytes() if limit is None else limit
    if len(data) > most:
        raise FileRefused(f"the file is {_mb(len(data))}, over the {_mb(most)} limit")
    if not data:
        raise FileRefused("the file is empty")
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(OLE_MAGIC):
        # Outlook's .msg names its streams __substg1.0_...; other OLE files (.doc, .xls,
        # encrypted office files) are old or opaque formats that hide macros.
        if _MSG_STREAM in data:
            return "application/vnd.ms-outlook"
        raise FileRefused(
            "old binary office files (.doc, .xls, .ppt) and password-protected documents are "
            "refused: save it as PDF or as a current office document (.docx, .xlsx)"
        )
    if data.startswith(ZIP_MAGIC):
        return _office_type(data)
    if _is_eml(data):
        return "message/rfc822"
    raise FileRefused(
        "the file's content is not an allowed kind (PDF, PNG, JPEG, an office document, an "
        "e-mail export .eml/.msg): whatever its name says"
    )


def _is_eml(data: bytes) -> bool:
    """An e-mail export: it starts with header lines, holds From/Date/Subject-like fields
    among them, and a blank line ends the header block."""
    head = data[:65536].replace(b"\r\n", b"\n")
    block, blank, _body = head.partition(b"\n\n")
    if not blank or not _HEADER_LINE.match(block):
        return False
    lines = [ln for ln in block.split(b"\n") if ln and ln[:1] not in (b" ", b"\t")]
    return all(_HEADER_LINE.match(ln + b" ") for ln in lines) and bool(_EML_FIELDS.search(block))


def _office_type(data: bytes) -> str:
    """An OOXML or ODF document, checked like an upload workbook for zip bombs."""
    with open_zip(data, _ZIP_REFUSALS, FileRefused) as archive:
        names = {i.filename for i in archive.infolist()}
        try:
            if "mimetype" in names:  # ODF: the first entry, stored, names the type
                kind = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if kind.startswith("application/vnd.oasis.opendocument."):
                    return kind
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")
                if b"macroEnabled" in types or b"vbaProject" in types:
                    raise FileRefused("macro-enabled documents are refused")
                for marker, kind in _OOXML_TYPES.items():
                    if marker in types:
                        return kind
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
            raise FileRefused(f"the document cannot be read ({exc})") from None
    raise FileRefused("the zip archive is not an office document (OOXML or ODF)")


def store_dir(url: URL | str | None = None) -> Path:
    """`$RISKMAP_EVIDENCE_DIR`, else `evidence/` beside the SQLite file, else ./data/evidence."""
    named = os.environ.get(ENV_DIR, "").strip()
    if named:
        return Path(named).expanduser()
    from riskmap.keys import default_path  # the same "beside the database" rule as the key

    return default_path(url).parent / "evidence"


@dataclass(frozen=True)
class EvidenceStore:
    root: Path

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Keep `data` (once) and return its SHA-256; written to a temporary file, then
        renamed, so a reader never sees half a file."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists() and hash_file(target) == sha:
            return sha
        write_atomically(target, data, prefix=".upload-")
        return sha

    def read(self, sha256: str) -> bytes:
        """The stored bytes, checked against their hash (a changed file is never served)."""
        target = self.path(sha256)
        if not target.exists():
            raise FileNotFoundError(f"evidence file {sha256} is missing from {self.root}")
        data = target.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError(f"evidence file {sha256} has changed since it was stored")
        return data

    def check(self, sha256: str) -> str:
        """ok, missing or changed."""
        target = self.path(sha256)
        if not target.exists():
            return "missing"
        return "ok" if hash_file(target) == sha256 else "changed"


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
