"""Evidence items (issue 15): the store, the upload checks, the use cases and their roles,
the expiry rule in "credit needs evidence", `riskmap evidence verify`."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from riskmap import security
from riskmap import service as s
from riskmap.cli import main
from riskmap.demo import build_demo
from riskmap.evidence_files import FileRefused, media_type, status
from riskmap.scoring import score
from riskmap.scoring.calibration import expired_evidence
from riskmap.service import CLI_ADMIN, Service, frames
from riskmap.service.scored import forget_scored
from riskmap.store.models import Cycle, EvidenceItem
from test_service_workflow import CAT

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TODAY = date.today()


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types>wordprocessingml</Types>")
        z.writestr("word/document.xml", b"\x00" * (50 * 1024 * 1024))
    return buf.getvalue()


# --- pure rules ------------------------------------------------------------------------


def test_status_is_valid_expiring_within_60_days_or_expired():
    today = date(2026, 6, 1)
    assert status(None, today) == "valid"
    assert status(today + timedelta(days=60), today) == "valid"
    assert status(today + timedelta(days=59), today) == "expiring"
    assert status(today, today) == "expiring"
    assert status(today - timedelta(days=1), today) == "expired"


def test_media_type_is_judged_by_content_not_by_name():
    assert media_type(PDF) == "application/pdf"
    assert media_type(PNG) == "image/png"
    assert media_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert media_type(docx()).endswith("wordprocessingml.document")
    assert media_type(b"From: a@b\r\nSubject: x\r\n\r\nbody") == "message/rfc822"
    with pytest.raises(FileRefused, match="not an allowed kind"):
        media_type(b"MZ\x90\x00 an executable renamed report.pdf")
    with pytest.raises(FileRefused, match="zip bomb"):
        media_type(bomb(), limit=10**9)
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(FileRefused, match="not an office document"):
        media_type(plain_zip.getvalue())
    with pytest.raises(FileRefused, match="over the"):
        media_type(PDF, limit=10)


def test_size_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("RISKMAP_EVIDENCE_MAX_BYTES", "20")
    with pytest.raises(FileRefused, match="over the"):
        media_type(PDF)
    monkeypatch.setenv("RISKMAP_EVIDENCE_MAX_BYTES", "lots")
    with pytest.raises(FileRefused, match="positive whole number"):
        media_type(PDF)


# --- the service on SQLite and PostgreSQL -----------------------------------------------


@pytest.fixture
def world(db_url, tmp_path, monkeypatch):
    """The demo ministry (2 units, 2025 locked, 2026 draft), one user per role."""
    monkeypatch.setattr(security, "N", 2**4)
    monkeypatch.setenv("RISKMAP_EVIDENCE_DIR", str(tmp_path / "store"))
    with Service.open(db_url, catalogue=CAT) as svc:
        build_demo(svc, units=2, seed=5)
        for role in ("officer", "manager", "auditor", "admin"):
            s.add_user(svc, CLI_ADMIN, role, role, f"{role}-password")
        yield svc


def a_control(svc, *, credited_above: int = 2):
    """A rated, applicable control of 2026 claimed above Nascent."""
    c = s.control_ratings(svc, CLI_ADMIN, "2026")
    c = c[c["applicable"] & (c["maturity"] >= credited_above)].iloc[0]
    return c["unit_code"], c["control_id"], int(c["version"])


def test_officer_adds_a_file_everyone_reads_it_nobody_else_writes(world, tmp_path):
    unit, ctl, _ = a_control(world)
    item = s.add_evidence(
        world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
        data=PDF, file_name='C:\\Users\\x\\=HYPERLINK("e").pdf',
        valid_until=TODAY + timedelta(days=365),
    )  # fmt: skip
    assert item["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert item["media_type"] == "application/pdf" and item["size"] == len(PDF)
    assert item["file_name"] == '=HYPERLINK("e").pdf'  # the path dropped, the rest is data
    assert item["checklist_entry"] == CAT.control_by_id[ctl].evidence[0]
    stored = tmp_path / "store" / item["sha256"][:2] / item["sha256"]
    assert stored.read_bytes() == PDF
    # The same bytes again: one copy in the store.
    s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                   data=PDF, file_name="again.pdf")  # fmt: skip
    assert len(list((tmp_path / "store").rglob("*"))) == 2  # one folder, one file
    for reader in ("officer", "manager", "auditor", "admin"):
        name, kind, data = s.evidence_file(world, reader, item["id"])
        assert (name, kind, data) == ('=HYPERLINK("e").pdf', "application/pdf", PDF)
        assert len(s.evidence_items(world, reader, "2026", unit)) == 2
    for other in ("manager", "auditor", "admin"):
        with pytest.raises(s.PermissionDenied):
            s.add_evidence(world, other, "2026", unit, control_id=ctl, reference="x",
                           checklist_entry=1)  # fmt: skip
        with pytest.raises(s.PermissionDenied):
            s.supersede_evidence(world, other, item["id"], reason="r", reference="y")
    trail = s.audit_trail(world, CLI_ADMIN)
    assert (trail["action"] == "evidence.add").sum() == 2
    assert (trail["action"] == "evidence.download").sum() == 4
    assert not any(name.startswith("delete") for name in s.USE_CASES if "evidence" in name)


def test_refused_uploads_store_nothing(world, tmp_path):
    unit, ctl, _ = a_control(world)
    for data, why in ((b"MZ\x90 exe", "not an allowed kind"), (bomb(), "over the|zip bomb")):
        with pytest.raises(s.ValidationError, match=why):
            s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                           data=data, file_name="report.pdf")  # fmt: skip
    with pytest.raises(s.ValidationError, match="entries 1-"):
        s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=99,
                       reference="Reg. 12/2026, archive room 3")  # fmt: skip
    with pytest.raises(s.ValidationError, match="either a file or a reference"):
        s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1)
    with pytest.raises(s.ValidationError, match="has passed"):
        s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                       reference="r", valid_until=TODAY - timedelta(days=1))  # fmt: skip
    with pytest.raises(s.NotFound, match="no rating of NOPE"):
        s.add_evidence(world, "officer", "2026", unit, control_id="NOPE", reference="r")
    with pytest.raises(s.CycleLocked):
        s.add_evidence(world, "officer", "2025", unit, control_id=ctl, reference="r",
                       checklist_entry=1)  # fmt: skip
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").rglob("*"))
    assert s.evidence_items(world, "auditor", "2026").empty


def test_supersede_keeps_the_old_item_and_names_its_successor(world):
    unit, ctl, _ = a_control(world)
    first = s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                           reference="Order 7/2025, registry B")  # fmt: skip
    new = s.supersede_evidence(world, "officer", first["id"], reason="newer order",
                               data=PNG, file_name="order.png")  # fmt: skip
    assert new["checklist_entry"] == first["checklist_entry"] and new["kind"] == "file"
    current = s.evidence_items(world, "auditor", "2026", unit)
    assert list(current["id"]) == [new["id"]]
    every = s.evidence_items(world, "auditor", "2026", unit, include_superseded=True)
    assert every.set_index("id").loc[first["id"], "superseded_by"] == new["id"]
    with pytest.raises(s.ValidationError, match="already superseded"):
        s.supersede_evidence(world, "officer", first["id"], reason="again", reference="z")
    trail = s.audit_trail(world, CLI_ADMIN)
    assert (trail["action"] == "evidence.supersede").sum() == 1


def test_only_valid_items_earn_credit_and_expiry_moves_the_residual(world):
    unit, ctl, version = a_control(world, credited_above=3)
    s.rate_control(world, "officer", "2026", unit, ctl, expected_version=version,
                   evidence="seen the orders")  # fmt: skip
    s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                   reference="Reg. 4", valid_until=TODAY + timedelta(days=30))  # fmt: skip

    def frames_on(day):
        with world.sessions() as session:
            cyc = session.scalar(select(Cycle).where(Cycle.label == "2026"))
            return frames.cycle_frames(session, cyc), frames.control_frame(session, cyc, today=day)

    f, now = frames_on(TODAY)
    _, later = frames_on(TODAY + timedelta(days=31))
    row = lambda fr: fr.set_index(["unit_code", "control_id"]).loc[(unit, ctl)]  # noqa: E731
    assert row(now)["evidence"] == "seen the orders" and row(now)["valid_evidence_items"] == 1
    assert row(later)["evidence"] == "" and row(later)["evidence_items"] == 1
    # The typed text stays what the officer edits.
    typed = s.control_ratings(world, "auditor", "2026", unit).set_index("control_id")
    assert typed.loc[ctl, "evidence"] == "seen the orders"
    before = score(f.risk_ratings, now, f.units, CAT)
    after = score(f.risk_ratings, later, f.units, CAT)
    mine = before["unit_code"] == unit
    assert (after.loc[mine, "residual"] >= before.loc[mine, "residual"]).all()
    assert (after.loc[mine, "residual"] > before.loc[mine, "residual"]).any()
    flags = s.calibration(world, "auditor", "2026")
    assert flags[flags["flag"] == "evidence_expired"].empty  # not expired today
    found = expired_evidence(later)
    assert list(found[["unit_code", "flag"]].itertuples(index=False, name=None)) == [
        (unit, "evidence_expired")
    ]
    assert ctl in found["detail"].iloc[0] and "none valid" in found["detail"].iloc[0]
    # The same once the day has passed in the database (moved back here, as time would).
    with world.sessions() as session, session.begin():
        item = session.scalar(select(EvidenceItem))
        item.valid_until = TODAY - timedelta(days=1)
    # An edit behind the service's back moves no audited data version: the scored-cycle
    # memo cannot see it (in service, the passing day itself is in the memo's key).
    forget_scored()
    flags = s.calibration(world, "auditor", "2026")
    assert (flags["flag"] == "evidence_expired").sum() == 1
    assert s.evidence_items(world, "auditor", "2026")["status"].tolist() == ["expired"]
    profile = s.unit_profile(world, "auditor", "2026", unit)
    assert "evidence_expired" in set(profile.flags["flag"])


def test_evidence_verify_names_a_changed_and_a_missing_file(world, tmp_path, db_url):
    unit, ctl, _ = a_control(world)
    a = s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                       data=PDF, file_name="a.pdf")  # fmt: skip
    b = s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                       data=PNG, file_name="b.png")  # fmt: skip
    runner = CliRunner()
    ok = runner.invoke(main, ["evidence", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert "2 files, all unchanged" in ok.output
    store = tmp_path / "store"
    (store / a["sha256"][:2] / a["sha256"]).write_bytes(PDF + b"tampered")
    (store / b["sha256"][:2] / b["sha256"]).unlink()
    bad = runner.invoke(main, ["evidence", "verify", "--db", db_url])
    assert bad.exit_code == 1
    assert f"changed: {a['sha256']}" in bad.output and "a.pdf" in bad.output
    assert f"missing: {b['sha256']}" in bad.output and "b.png" in bad.output
    with pytest.raises(s.ValidationError, match="changed since it was stored"):
        s.evidence_file(world, "auditor", a["id"])


def test_workbook_evidence_sheet_writes_typed_names_as_text(world):
    from openpyxl import load_workbook

    unit, ctl, _ = a_control(world)
    hostile = "=cmd|' -c calc'!A0 @SUM(1).pdf"  # no path separators: all of it is the name
    item = s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                          data=PDF, file_name=hostile,
                          valid_until=TODAY + timedelta(days=10))  # fmt: skip
    s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                   reference="=1+1 Register 4, shelf 2")  # fmt: skip
    book = load_workbook(io.BytesIO(s.export_workbook(world, "auditor", "2026")))
    ws = book["Evidence"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, [c for c in r], strict=True)) for r in ws.iter_rows(min_row=2)]
    assert len(rows) == 2
    first = rows[0]
    assert first["file_name"].value == hostile and first["file_name"].data_type == "s"
    assert first["sha256"].value == item["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert first["status"].value == "expiring" and first["unit_code"].value == unit
    assert first["checklist_entry"].value == CAT.control_by_id[ctl].evidence[0]
    assert rows[1]["reference"].value.startswith("=1+1") and rows[1]["reference"].data_type == "s"
    assert {"unit_code", "control_id", "added_by", "added_at", "valid_until"} <= set(header)


def test_backup_zip_carries_the_files_and_restore_checks_them_by_hash(world, tmp_path, db_url):
    import shutil

    unit, ctl, _ = a_control(world)
    a = s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                       data=PDF, file_name="a.pdf")  # fmt: skip
    runner = CliRunner()
    out = tmp_path / "b.zip"
    made = runner.invoke(main, ["backup", "-o", str(out), "--db", db_url])
    assert made.exit_code == 0, made.output
    with zipfile.ZipFile(out) as z:
        assert z.read(f"evidence/{a['sha256']}") == PDF
        body = {n: z.read(n) for n in z.namelist()}
    shutil.rmtree(tmp_path / "store")  # the files are gone: only the backup has them
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    done = runner.invoke(main, ["restore", str(out), "--db", target])
    assert done.exit_code == 0, done.output
    assert "1 evidence files" in done.output
    assert (tmp_path / "store" / a["sha256"][:2] / a["sha256"]).read_bytes() == PDF
    assert runner.invoke(main, ["evidence", "verify", "--db", target]).exit_code == 0
    # A file changed inside the zip: refused, nothing written.
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in body.items():
            z.writestr(name, data + b"x" if name.startswith("evidence/") else data)
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    refused = runner.invoke(main, ["restore", str(bad), "--db", other])
    assert refused.exit_code == 1
    assert f"evidence file {a['sha256']} does not match its hash" in refused.output
    # A file left out: refused too.
    short = tmp_path / "short.zip"
    with zipfile.ZipFile(short, "w") as z:
        z.writestr("backup.json", body["backup.json"])
    refused = runner.invoke(main, ["restore", str(short), "--db", other])
    assert refused.exit_code == 1 and "not in the backup" in refused.output


def test_cli_evidence_add_and_list(world, tmp_path, db_url):
    unit, ctl, _ = a_control(world)
    pdf = tmp_path / "orders.pdf"
    pdf.write_bytes(PDF)
    exe = tmp_path / "looks-like.pdf"
    exe.write_bytes(b"MZ\x90\x00 not a pdf")
    runner = CliRunner()
    base = ["evidence", "add", "--db", db_url, "--cycle", "2026", "--unit", unit,
            "--control", ctl, "--entry", "1", "--user", "officer"]  # fmt: skip
    ok = runner.invoke(main, [*base, "--file", str(pdf), "--valid-until", "2099-01-01"])
    assert ok.exit_code == 0, ok.output
    assert hashlib.sha256(PDF).hexdigest() in ok.output
    refused = runner.invoke(main, [*base, "--file", str(exe)])
    assert refused.exit_code == 1 and "not an allowed kind" in refused.output
    as_auditor = runner.invoke(main, [*base[:-1], "auditor", "--reference", "R-1"])
    assert as_auditor.exit_code == 1 and "auditor" in as_auditor.output
    listed = runner.invoke(main, ["evidence", "list", "--db", db_url, "--cycle", "2026"])
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert len(lines) == 2 and "orders.pdf" in lines[1] and lines[1].endswith(",valid")
    first = lines[1].split(",")[0]
    args = ["evidence", "supersede", first, "--db", db_url, "--reason", "registry copy",
            "--reference", "Reg. 5", "--user", "officer"]  # fmt: skip
    again = runner.invoke(main, args)
    assert again.exit_code == 0, again.output
    assert f"item {first} superseded by item" in again.output
    listed = runner.invoke(main, ["evidence", "list", "--db", db_url, "--cycle", "2026"])
    assert "Reg. 5" in listed.output and "orders.pdf" not in listed.output


def test_questionnaire_keeps_the_typed_note_the_workbook_shows_what_counts(world):
    from riskmap.service.exports import build_snapshot

    unit, ctl, version = a_control(world)
    s.rate_control(world, "officer", "2026", unit, ctl, expected_version=version, evidence="")
    s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                   reference="Register 9")  # fmt: skip
    with world.transaction(CLI_ADMIN, "test") as tx:
        cyc = tx.cycle("2026")
        full = build_snapshot(tx, cyc).control_ratings.set_index(["unit_code", "control_id"])
        form = build_snapshot(tx, cyc, full=False).control_ratings
    form = form.set_index(["unit_code", "control_id"])
    assert full.loc[(unit, ctl), "evidence"] == "1 valid evidence item"
    assert form.loc[(unit, ctl), "evidence"] == ""


def test_restore_refuses_an_evidence_row_whose_hash_is_a_path(world, tmp_path, db_url):
    import json

    unit, ctl, _ = a_control(world)
    s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                   data=PDF, file_name="a.pdf")  # fmt: skip
    runner = CliRunner()
    out = tmp_path / "b.json"
    assert runner.invoke(main, ["backup", "-o", str(out), "--db", db_url]).exit_code == 0
    data = json.loads(out.read_text())
    data["tables"]["evidence_items"][0]["sha256"] = "../../etc/passwd"
    data["tables"]["evidence_items"][0]["kind"] = "bomb"
    out.write_text(json.dumps(data))
    target = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    refused = runner.invoke(main, ["restore", str(out), "--db", target, "--accept-edited"])
    assert refused.exit_code == 1
    assert "table evidence_items" in refused.output and "sha256" in refused.output
    assert "64 lower-case hex digits" in refused.output and "not an evidence kind" in refused.output


def test_controls_sheet_counts_valid_items_and_links_to_the_first(world):
    """Each control rating row shows its number of valid (not expired) items and links to
    its first row on the Evidence sheet; a risk rating's items count on no control."""
    from openpyxl import load_workbook

    c = s.control_ratings(world, CLI_ADMIN, "2026")
    c = c[c["applicable"]]
    (u1, k1), (u2, k2) = c[["unit_code", "control_id"]].head(2).itertuples(index=False, name=None)
    for ref in ("=1+1 Register 4", "Register 5"):
        s.add_evidence(world, "officer", "2026", u1, control_id=k1, checklist_entry=1,
                       reference=ref)  # fmt: skip
    s.add_evidence(world, "officer", "2026", u1, control_id=k1, checklist_entry=1,
                   data=PDF, file_name="orders.pdf")  # fmt: skip
    old = s.add_evidence(world, "officer", "2026", u2, control_id=k2, checklist_entry=1,
                         reference="Register 6", valid_until=TODAY + timedelta(days=5))  # fmt: skip
    gone = s.add_evidence(world, "officer", "2026", u1, control_id=k1, checklist_entry=1,
                          reference="to be replaced")  # fmt: skip
    s.supersede_evidence(world, "officer", gone["id"], reason="newer", reference="Register 7")
    risk = s.risk_ratings(world, CLI_ADMIN, "2026")
    r1 = risk[(risk["unit_code"] == u1) & risk["applicable"]]["risk_id"].iloc[0]
    s.add_evidence(world, "officer", "2026", u1, risk_id=r1, checklist_entry="survey 2025",
                   reference="Survey file 3")  # fmt: skip
    with world.sessions() as session, session.begin():  # the day passes for item `old`
        session.get(EvidenceItem, old["id"]).valid_until = TODAY - timedelta(days=1)
    book = load_workbook(io.BytesIO(s.export_workbook(world, "auditor", "2026")))
    ev, ctl = book["Evidence"], book["Controls"]
    ev_head = [x.value for x in ev[1]]
    evidence = [dict(zip(ev_head, [x.value for x in r], strict=True)) for r in ev.iter_rows(2)]
    assert len(evidence) == 6  # the superseded item is not on the sheet
    head = [x.value for x in ctl[1]]
    shown = {}
    for r in ctl.iter_rows(2):
        row = dict(zip(head, r, strict=True))
        link = row["evidence_row"].hyperlink
        shown[(row["unit_code"].value, row["control_id"].value)] = (
            row["valid_evidence_items"].value,
            link.location if link is not None else None,
            row["evidence_row"].value,
        )
    first1 = 2 + [(e["unit_code"], e["control_id"]) for e in evidence].index((u1, k1))
    first2 = 2 + [(e["unit_code"], e["control_id"]) for e in evidence].index((u2, k2))
    assert shown[(u1, k1)] == (4, f"'Evidence'!A{first1}", first1)
    assert shown[(u2, k2)] == (0, f"'Evidence'!A{first2}", first2)  # expired: no credit
    assert evidence[first2 - 2]["status"] == "expired"
    others = [v for key, v in shown.items() if key not in {(u1, k1), (u2, k2)}]
    assert others and all(v == (0, None, None) for v in others)
    # Every link lands on a row of its own rating; the rows it heads are contiguous.
    for (unit, control), (_n, _where, first) in shown.items():
        if first is not None:
            assert (evidence[first - 2]["unit_code"], evidence[first - 2]["control_id"]) == (
                unit, control,
            )  # fmt: skip
    assert any(e["risk_id"] == r1 and e["control_id"] is None for e in evidence)
    # User text stays text next to the links.
    refs = [ev.cell(row=i + 2, column=ev_head.index("reference") + 1) for i in range(6)]
    assert any(x.value == "=1+1 Register 4" and x.data_type == "s" for x in refs)


def test_an_item_expiring_moves_the_residual_through_the_service(world, monkeypatch):
    """The day an item's valid-until passes, with no change in the database, the service's
    register and heat map (memoised per data version) credit the control as unevidenced:
    each residual of the unit is what the method gives with that control's evidence blank
    (the row-by-row oracle), and the residuals of the risks it guards rise."""
    import oracle

    unit, ctl, version = a_control(world, credited_above=3)
    s.rate_control(world, "officer", "2026", unit, ctl, expected_version=version, evidence="")
    s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                   reference="Reg. 4", valid_until=TODAY + timedelta(days=30))  # fmt: skip
    before = s.register(world, "auditor", "2026").set_index(["unit_code", "risk_id"])
    map_before = s.cycle_map(world, "auditor", "2026").register  # memoised for this version
    f = s.cycle_frames(world, "auditor", "2026")
    typed = f.control_ratings.copy()
    mine = (typed["unit_code"] == unit) & (typed["control_id"] == ctl)
    assert typed.loc[mine, "evidence"].tolist() == ["1 valid evidence item"]
    expected_now = oracle.score_rows(f.risk_ratings, typed, f.units, CAT)
    typed.loc[mine, "evidence"] = ""
    expected_later = oracle.score_rows(f.risk_ratings, typed, f.units, CAT)

    class Later(date):
        @classmethod
        def today(cls):
            return TODAY + timedelta(days=31)

    monkeypatch.setattr(frames, "date", Later)  # the day evidence is judged on moves on
    after = s.register(world, "auditor", "2026").set_index(["unit_code", "risk_id"])
    map_after = s.cycle_map(world, "auditor", "2026").register
    assert s.evidence_items(world, "auditor", "2026", today=Later.today())["status"].tolist() == [
        "expired"
    ]
    guarded = {r for r, _ in CAT.control_by_id[ctl].mitigates.items()}
    moved = 0
    for now, later in zip(expected_now, expected_later, strict=True):
        key = (now["unit_code"], now["risk_id"])
        assert before.loc[key, "residual"] == pytest.approx(now["residual"])
        assert after.loc[key, "residual"] == pytest.approx(later["residual"])
        if key[0] == unit and key[1] in guarded:
            assert later["residual"] > now["residual"]
            moved += 1
        else:
            assert later["residual"] == pytest.approx(now["residual"])
    assert moved >= 1
    for frame, reg in ((map_before, before), (map_after, after)):
        shown = frame.set_index(["unit_code", "risk_id"])["residual"]
        assert shown.to_dict() == pytest.approx(reg["residual"].to_dict())


def test_evidence_on_a_risk_rating_officers_add_auditors_read_nobody_deletes(world):
    """A risk rating's justification can be shown by items too: the same rule as a
    control's (officers add and supersede in a draft cycle, every reader lists and
    downloads, nothing deletes); it earns no control credit."""
    risk = s.risk_ratings(world, CLI_ADMIN, "2026")
    unit, risk_id = risk[risk["applicable"]][["unit_code", "risk_id"]].iloc[0]
    before = s.register(world, "auditor", "2026")
    item = s.add_evidence(world, "officer", "2026", unit, risk_id=risk_id,
                          checklist_entry="2025 incident report", data=PDF,
                          file_name="incidents.pdf")  # fmt: skip
    assert (item["risk_id"], item["control_id"], item["kind"]) == (risk_id, None, "file")
    assert item["checklist_entry"] == "2025 incident report"
    for reader in ("officer", "manager", "auditor", "admin"):
        listed = s.evidence_items(world, reader, "2026", unit)
        assert listed[["risk_id", "file_name"]].values.tolist() == [[risk_id, "incidents.pdf"]]
        assert s.evidence_file(world, reader, item["id"])[2] == PDF
    for other in ("manager", "auditor", "admin"):
        with pytest.raises(s.PermissionDenied):
            s.add_evidence(world, other, "2026", unit, risk_id=risk_id, reference="x")
        with pytest.raises(s.PermissionDenied):
            s.supersede_evidence(world, other, item["id"], reason="r", reference="y")
    new = s.supersede_evidence(world, "officer", item["id"], reason="the registry copy",
                               reference="Incident register 2025, no. 14")  # fmt: skip
    assert (new["risk_id"], new["checklist_entry"]) == (risk_id, "2025 incident report")
    every = s.evidence_items(world, "auditor", "2026", unit, include_superseded=True)
    assert every.set_index("id").loc[item["id"], "superseded_by"] == new["id"]
    with pytest.raises(s.NotFound, match="no rating of NOPE-1"):
        s.add_evidence(world, "officer", "2026", unit, risk_id="NOPE-1", reference="r")
    with pytest.raises(s.ValidationError, match="not both"):
        s.add_evidence(world, "officer", "2026", unit, risk_id=risk_id, control_id="x",
                       reference="r")  # fmt: skip
    after = s.register(world, "auditor", "2026")
    assert after["residual"].tolist() == before["residual"].tolist()
    assert not any(name.startswith(("delete", "remove")) for name in s.USE_CASES)


def test_cli_evidence_check_names_the_item_a_received_copy_is(world, tmp_path, db_url):
    """The auditor's check of the files they received against the Evidence sheet's hashes:
    a true copy names its item (and its state), a changed copy matches none (exit 1)."""
    unit, ctl, _ = a_control(world)
    a = s.add_evidence(world, "officer", "2026", unit, control_id=ctl, checklist_entry=1,
                       data=PDF, file_name="orders.pdf")  # fmt: skip
    b = s.supersede_evidence(world, "officer", a["id"], reason="scan", data=PNG,
                             file_name="orders.png")  # fmt: skip
    good, changed = tmp_path / "received.pdf", tmp_path / "received-2.png"
    good.write_bytes(PDF)
    changed.write_bytes(PNG + b"edited")
    runner = CliRunner()
    ok = runner.invoke(main, ["evidence", "check", str(good), "--cycle", "2026", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert f"is item {a['id']} ('orders.pdf'; unit {unit}, control {ctl}; superseded by item " \
        f"{b['id']})" in ok.output  # fmt: skip
    bad = runner.invoke(
        main, ["evidence", "check", str(good), str(changed), "--cycle", "2026", "--db", db_url]
    )
    assert bad.exit_code == 1
    digest = hashlib.sha256(PNG + b"edited").hexdigest()
    assert f"no item: {changed} sha256={digest}" in bad.output
    assert "1 of 2 files match no item" in bad.output
