"""Checks on an uploaded workbook before anything parses it.

An upload is refused, with a message a user can act on, when it is too big, not a zip
(.xlsx) file, an encrypted or legacy workbook (OLE compound document), macro-enabled, has
encrypted entries or a document type declaration (XML entity tricks) anywhere in any
part (whatever the part's name: a DOCTYPE hidden past the first kilobytes or in a part
renamed `.dat` is found), or looks like a zip bomb. The zip bomb checks read only the
zip's central directory (declared sizes and compression ratios) before anything is
decompressed; Python's zipfile then never
decompresses more than an entry's declared size (a lying entry fails its CRC check), so
the declared sizes are a real bound.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Callable, Iterator, Mapping
from typing import BinaryIO, NamedTuple

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # 20 MiB: a 1,000-unit questionnaire is about 3 MiB
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024  # all entries together, as declared
MAX_ENTRY_RATIO = 200  # uncompressed / compressed size of one entry...
RATIO_FLOOR_BYTES = 1024 * 1024  # ...checked for entries above 1 MiB
MAX_ENTRIES = 10_000
_SCAN_CHUNK = 1024 * 1024  # parts are scanned for a DOCTYPE in chunks of this size...
_SCAN_OVERLAP = 64  # ...overlapping so that a marker split across two is still found
_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
WORKBOOK_CONTENT_TYPE = (
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
)
MACRO_CONTENT_TYPES = (b"macroEnabled", b"vbaProject", b"application/vnd.ms-office.activeX")


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def check_upload(data: bytes) -> list[str]:
    """Every reason to refuse `data` as an .xlsx upload (empty list: go ahead and parse)."""
    if len(data) > MAX_UPLOAD_BYTES:
        return [_too_large(len(data))]
    if data.startswith(OLE_MAGIC):
        return [
            "the file is password-protected (encrypted) or an old .xls workbook: remove the "
            "password and save it as an Excel workbook (.xlsx)"
        ]
    if not data.startswith(ZIP_MAGIC):
        return ["the file is not an Excel workbook (.xlsx): it is not a zip archive"]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return [f"the file is not an Excel workbook (.xlsx): damaged zip archive ({exc})"]
    with archive:
        return _check_archive(archive)


class ZipFault(NamedTuple):
    """One reason the central directory of an untrusted zip is refused (`zip_faults`):
    `kind` is "entries" (too many; `amount` how many), "total" (declared size over the
    limit; `amount` the total), "encrypted" or "ratio" (the entry `part`)."""

    kind: str
    part: str = ""
    amount: int = 0


def zip_faults(
    infos: list[zipfile.ZipInfo],
    *,
    max_entries: int = MAX_ENTRIES,
    max_total: int = MAX_UNCOMPRESSED_BYTES,
) -> Iterator[ZipFault]:
    """The zip bomb and encryption rule of every zip a user hands in (a workbook, an office
    document as evidence, a backup), in order, read from the directory alone before anything
    is decompressed; none after "entries" (a directory that long is not looked through).
    Each caller words the faults for what the zip was meant to be."""
    if len(infos) > max_entries:
        yield ZipFault("entries", amount=len(infos))
        return
    total = sum(info.file_size for info in infos)
    if total > max_total:
        yield ZipFault("total", amount=total)
    for info in infos:
        if info.flag_bits & 0x1:
            yield ZipFault("encrypted", info.filename)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_ENTRY_RATIO:
            yield ZipFault("ratio", info.filename)


def open_zip(
    data: bytes,
    refusals: Mapping[str, str],
    error: Callable[[str], Exception],
    *,
    max_entries: int = MAX_ENTRIES,
    max_total: int = MAX_UNCOMPRESSED_BYTES,
) -> zipfile.ZipFile:
    """`data` opened as a zip that passed `zip_faults`, else `error` of the first fault in
    the caller's words: `refusals` maps "damaged" (not a readable zip) and each fault kind
    it refuses to a template of {part}, {amount} or {detail}; a kind it lacks passes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise error(refusals["damaged"].format(detail=exc)) from None
    for fault in zip_faults(archive.infolist(), max_entries=max_entries, max_total=max_total):
        if fault.kind in refusals:
            archive.close()
            raise error(refusals[fault.kind].format(part=fault.part, amount=fault.amount))
    return archive


def _upload_refusal(fault: ZipFault) -> str:
    if fault.kind == "entries":
        return f"the workbook has {fault.amount} parts, over the limit of {MAX_ENTRIES}"
    if fault.kind == "total":
        return (
            f"the workbook would expand to {_mib(fault.amount)}, over the "
            f"{_mib(MAX_UNCOMPRESSED_BYTES)} limit (zip bomb?)"
        )
    if fault.kind == "encrypted":
        return f"part {fault.part} is encrypted: remove the password and save again"
    return f"part {fault.part} is compressed more than {MAX_ENTRY_RATIO} times (zip bomb?)"


def _check_archive(archive: zipfile.ZipFile) -> list[str]:
    infos = archive.infolist()
    errors = [_upload_refusal(fault) for fault in zip_faults(infos)]
    if len(infos) > MAX_ENTRIES:
        return errors
    names = {info.filename for info in infos}
    lowered = {name.lower() for name in names}
    if any(name.endswith("vbaproject.bin") for name in lowered):
        errors.append(
            "the workbook contains macros (vbaProject.bin): macro-enabled files are refused; "
            "save it as an Excel workbook (.xlsx)"
        )
    if "[Content_Types].xml" not in names:
        errors.append("the file is not an Excel workbook (.xlsx): [Content_Types].xml is missing")
        return errors
    if errors:
        return errors
    try:
        with archive.open("[Content_Types].xml") as part:
            types = part.read(MAX_UNCOMPRESSED_BYTES)
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
        return [f"the file is not an Excel workbook (.xlsx): damaged zip archive ({exc})"]
    if any(marker in types for marker in MACRO_CONTENT_TYPES):
        errors.append(
            "the workbook is macro-enabled (.xlsm content type): macro-enabled files are "
            "refused; save it as an Excel workbook (.xlsx)"
        )
    elif WORKBOOK_CONTENT_TYPE not in types:
        errors.append(
            "the file is not an Excel workbook (.xlsx): its content type is not a workbook"
        )
    for info in infos:
        if info.is_dir():
            continue
        try:
            declares = _declares_doctype(archive, info)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
            errors.append(f"part {info.filename} cannot be read: {exc}")
            continue
        if declares:
            errors.append(
                f"part {info.filename} declares a DOCTYPE or entities, which workbooks never "
                "do: refused"
            )
    return errors


def _declares_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the part holds `<!DOCTYPE` or `<!ENTITY` anywhere, read as a stream (the
    declared sizes were checked, so this decompresses at most MAX_UNCOMPRESSED_BYTES).
    Upper case and NULs dropped: catches `<!doctype` and UTF-16 text alike."""
    tail = b""
    with archive.open(info) as part:
        while chunk := part.read(_SCAN_CHUNK):
            text = tail + chunk.replace(b"\x00", b"").upper()
            if any(marker in text for marker in _MARKERS):
                return True
            tail = text[-_SCAN_OVERLAP:]
    return False


def read_upload(stream: BinaryIO) -> bytes | list[str]:
    """The bytes of an upload read from `stream`, never more than one byte over the limit
    (`/dev/zero` or a huge sparse file is refused after MAX_UPLOAD_BYTES + 1 bytes, not
    read whole); or the refusal, as `check_upload` words it."""
    try:  # a regular file says its size without being read (a sparse 1.5 GB one too)
        info = os.fstat(stream.fileno())
        size = info.st_size if stat.S_ISREG(info.st_mode) else None
    except (AttributeError, OSError, io.UnsupportedOperation):
        size = None
    if size is not None and size > MAX_UPLOAD_BYTES:
        return [_too_large(size)]
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return [_too_large(None)]
    return data


def _too_large(size: int | None) -> str:
    shown = f"is {size / (1024 * 1024):.1f} MB, over" if size is not None else "is over"
    return (
        f"the file {shown} the {_mib(MAX_UPLOAD_BYTES)} limit; a questionnaire is much "
        "smaller: upload the template you filled in"
    )
