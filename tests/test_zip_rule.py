"""The untrusted-zip rule (`safety.zip_faults`) has one home; each caller words it.

A backup used to pass an encrypted entry to `zipfile`, which then raised an uncaught
RuntimeError; it is refused in the backup's words like the other faults."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from make_bad_questionnaires import patch_central_directory
from riskmap.backup_files import JSON_NAME, BackupFilesError, unpack
from riskmap.evidence_files import FileRefused, media_type
from riskmap.reports.safety import ZipFault, open_zip, zip_faults


def _zip(**parts: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name, body in parts.items():
            out.writestr(name, body)
    return buf.getvalue()


def _infos(data: bytes) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.infolist()


def test_faults_in_order_and_none_past_too_many_entries():
    bomb = b"\0" * (3 * 1024 * 1024)  # 3 MiB of zeros compresses far past 200 times
    data = patch_central_directory(_zip(a=b"x", b=bomb), "a", flags=0x1)
    assert list(zip_faults(_infos(data), max_total=2 * 1024 * 1024)) == [
        ZipFault("total", amount=3 * 1024 * 1024 + 1),
        ZipFault("encrypted", "a"),
        ZipFault("ratio", "b"),
    ]
    assert list(zip_faults(_infos(data), max_entries=1)) == [ZipFault("entries", amount=2)]
    assert list(zip_faults(_infos(_zip(a=b"x")))) == []


def test_open_zip_words_the_first_fault_and_lets_unnamed_kinds_pass():
    data = patch_central_directory(_zip(a=b"x"), "a", flags=0x1)
    with pytest.raises(ValueError, match=r"^a is locked$"):
        open_zip(data, {"damaged": "bad", "encrypted": "{part} is locked"}, ValueError)
    with open_zip(data, {"damaged": "bad"}, ValueError) as archive:
        assert archive.namelist() == ["a"]
    with pytest.raises(ValueError, match=r"^bad: "):
        open_zip(b"PK\x03\x04 not a zip", {"damaged": "bad: {detail}"}, ValueError)


def test_backup_refuses_an_encrypted_entry_in_its_words():
    data = patch_central_directory(_zip(**{JSON_NAME: json.dumps({})}), JSON_NAME, flags=0x1)
    with pytest.raises(BackupFilesError, match=f"^entry {JSON_NAME} is encrypted: "):
        unpack(data)


def test_evidence_refuses_an_encrypted_part_in_its_words():
    doc = _zip(**{"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    data = patch_central_directory(doc, "word/document.xml", flags=0x1)
    with pytest.raises(FileRefused, match=r"^part word/document.xml is encrypted: remove the"):
        media_type(data)
