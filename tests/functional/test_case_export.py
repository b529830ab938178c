"""The case file export: what it holds, what it leaves out, who may make it, who hears of it."""

from __future__ import annotations

import io
import logging
import re
import secrets
import tempfile
import time
import zipfile
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from support.evidence import reporter_upload, staff_upload
from support.staff_world import SECRET, ZONE, Person, build_world

from cases.access.disclosure import DisclosureService
from cases.access.redaction import RedactionService, Span
from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.reports.intake import IdentityInput
from portal.export_font import ExportFontMissing, find_font

CANARY = "金丝雀案卷七号"
# Words each kept out of the file in its own way: a colleague's mask, the exporter's own
# mask, a redaction, and the reporter's name (disclosed to nobody in the first tests).
COLLEAGUE_MASKED = "ColleagueMaskedWord"
OWN_MASKED = "OwnMaskedWord"
REDACTED = "RedactedWord"
REPORTER_NAME = "Reporter Secretname"
EVIDENCE = b"invoice 2024-17, amount 88,000\n" * 50
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def scene(app: Any, app_db: sessionmaker[Any]) -> dict[str, Any]:
    """Ana works a zh-CN case with a masked, a self-masked and a redacted note; Bo is excluded."""
    clock = FixedClock()
    app.state.clock = clock
    with unit_of_work(app_db) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com", "investigator")
        cai = world.staff("cai@example.com", "investigator")
        bo = world.staff("bo@example.com", "investigator")
        cus = world.staff("cus@example.com", "custodian")
        filed = world.file(
            summary=f"订单被转给竞争对手 {CANARY}",
            exclude=[bo.account.id],
            identity=IdentityInput(name=REPORTER_NAME, contact="secret@example.com"),
        )
        case = filed.case
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        me, colleague = ana.principal(db, clock), cai.principal(db, clock)
        key = work.require_key(me, case)
        redaction = RedactionService(db, clock, AuditLog(db, clock, SECRET))
        note = work.add_note(me, case.id, f"A {OWN_MASKED} B {REDACTED} C").id
        other = work.add_note(colleague, case.id, f"Cai says {COLLEAGUE_MASKED} here").id
        redaction.mask(me, case, key, note, Span(2, 2 + len(OWN_MASKED)))
        start = len(f"A {OWN_MASKED} B ")
        redaction.redact(me, case, key, note, Span(start, start + len(REDACTED)))
        redaction.mask(colleague, case, key, other, Span(9, 9 + len(COLLEAGUE_MASKED)))
        work.add_message(me, case.id, "谢谢，我们正在调查。")
        work.transition(me, case.id, "acknowledged", "已收到")
    reporter_upload(app_client(app), filed.receipt.formatted(), "invoice.txt", EVIDENCE)
    return {
        "clock": clock,
        "ana": ana,
        "bo": bo,
        "cus": cus,
        "case": case.id,
        "receipt": filed.receipt.formatted(),
    }


def app_client(app: Any) -> Any:
    from starlette.testclient import TestClient

    return TestClient(app, base_url="https://testserver")


def bearer(client: Any, person: Person, clock: FixedClock) -> dict[str, str]:
    body = {"email": person.account.email, "password": person.password, "totp": person.code(clock)}
    answer = client.post("/api/v1/staff/session", json=body)
    assert answer.status_code == 200, answer.text
    clock.advance(seconds=30)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def exports(app_db: sessionmaker[Any], case_id: str) -> int:
    with unit_of_work(app_db) as db:
        stmt = select(func.count()).where(
            AuditEntry.case_id == case_id, AuditEntry.action == "case.exported"
        )
        return int(db.scalar(stmt) or 0)


def test_zh_cn_export_renders_the_chinese_text(client: Any, scene: dict[str, Any]) -> None:
    """A zh-CN export is a PDF whose extracted text holds the Chinese canary and headings."""
    auth = bearer(client, scene["ana"], scene["clock"])

    answer = client.get(
        f"/api/v1/cases/{scene['case']}/export.pdf",
        headers={**auth, "Accept-Language": "zh-CN"},
    )
    text = pdf_text(answer.content)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    assert CANARY in text
    assert "谢谢，我们正在调查。" in text
    assert "证据" in text  # the "Evidence" heading, in Chinese
    assert sha256(EVIDENCE).hexdigest() in text


def test_masked_redacted_and_undisclosed_text_is_not_in_the_file(
    client: Any, app_db: sessionmaker[Any], scene: dict[str, Any]
) -> None:
    """Masks (a colleague's and one's own), redactions and an undisclosed identity stay out."""
    auth = bearer(client, scene["ana"], scene["clock"])

    answer = client.get(f"/api/v1/cases/{scene['case']}/export.pdf", headers=auth)
    text = pdf_text(answer.content)

    assert answer.status_code == 200
    assert "Cai says" in text
    assert " here" in text
    for hidden in (COLLEAGUE_MASKED, OWN_MASKED, REDACTED, REPORTER_NAME, "secret@example.com"):
        assert hidden not in text
        assert hidden.encode() not in answer.content
    assert "Not disclosed to the person exporting" in text
    assert exports(app_db, scene["case"]) == 1


def test_a_disclosed_identity_is_in_the_file_and_marked(
    client: Any, app_db: sessionmaker[Any], scene: dict[str, Any]
) -> None:
    """After a custodian approves Ana's request, her export carries the identity, marked."""
    clock = scene["clock"]
    with unit_of_work(app_db) as db:
        from cases.reports.models import Case

        case = db.get(Case, scene["case"])
        assert case is not None
        disclosures = DisclosureService(db, clock, AuditLog(db, clock, SECRET), ZONE)
        asked = disclosures.request(
            scene["ana"].principal(db, clock), case, "We must interview the reporter."
        )
        disclosures.decide(
            scene["cus"].principal(db, clock), asked.id, approve=True, reason="Needed."
        )
    auth = bearer(client, scene["ana"], clock)

    text = pdf_text(client.get(f"/api/v1/cases/{scene['case']}/export.pdf", headers=auth).content)

    assert REPORTER_NAME in text
    assert "DISCLOSED to ana@example.com" in text
    assert COLLEAGUE_MASKED not in text


def test_an_excluded_investigator_gets_404_and_nothing_is_recorded(
    client: Any, app_db: sessionmaker[Any], scene: dict[str, Any]
) -> None:
    """Bo, excluded by the reporter, gets 404 for both formats; no export is audited."""
    auth = bearer(client, scene["bo"], scene["clock"])

    answers = [
        client.get(f"/api/v1/cases/{scene['case']}/export.{fmt}", headers=auth)
        for fmt in ("pdf", "zip")
    ]

    assert [a.status_code for a in answers] == [404, 404]
    assert all(CANARY.encode() not in a.content for a in answers)
    assert exports(app_db, scene["case"]) == 0


def test_zip_carries_the_pdf_and_the_evidence_and_the_reporter_sees_the_day(
    app: Any, client: Any, scene: dict[str, Any]
) -> None:
    """The ZIP holds the PDF, each file byte for byte and SHA256SUMS; the reporter sees the day."""
    clock = scene["clock"]
    staff_upload(app, scene["ana"], clock, scene["case"], "ledger.csv", b"a,b\n1,2\n", "text/csv")
    auth = bearer(client, scene["ana"], clock)

    answer = client.get(f"/api/v1/cases/{scene['case']}/export.zip", headers=auth)
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = archive.namelist()
    status = reporter_status(client, scene["receipt"])

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert names[0].endswith(".pdf")
    assert names[-1] == "SHA256SUMS"
    assert CANARY in pdf_text(archive.read(names[0]))
    files = {name.split("-", 1)[1]: name for name in names if name.startswith("evidence/")}
    assert sorted(files) == ["evidence-1.txt", "ledger.csv"]
    assert archive.read(files["evidence-1.txt"]) == EVIDENCE
    assert archive.read(files["ledger.csv"]) == b"a,b\n1,2\n"
    sums = archive.read("SHA256SUMS").decode()
    assert f"{sha256(EVIDENCE).hexdigest()}  {files['evidence-1.txt']}" in sums
    day = clock.now().date().isoformat()
    assert f"On {day} the case file was exported" in status
    assert not re.search(r"exported[^<]*\d\d:\d\d", status)


def reporter_status(client: Any, receipt: str) -> str:
    client.cookies.clear()
    token = CSRF.findall(client.get("/status").text)[0]
    login = client.post("/status", data={"csrf": token, "receipt": receipt}, follow_redirects=False)
    assert login.status_code == 303, login.text
    return str(client.get("/status").text)


def test_exports_leave_no_plaintext_on_disk_or_in_logs(
    app: Any,
    client: Any,
    scene: dict[str, Any],
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a PDF and a ZIP export, no file written since and no log line holds the evidence."""
    caplog.set_level(logging.DEBUG)
    started = time.time() - 1
    canary = f"EXPORTCANARY{secrets.token_hex(6)}".encode()
    clock = scene["clock"]
    staff_upload(app, scene["ana"], clock, scene["case"], "c.txt", canary * 100, "text/plain")
    auth = bearer(client, scene["ana"], clock)

    pdf = client.get(f"/api/v1/cases/{scene['case']}/export.pdf", headers=auth)
    bundle = client.get(f"/api/v1/cases/{scene['case']}/export.zip", headers=auth)
    written = [
        path
        for root in (data_dir, Path(tempfile.gettempdir()))
        for path in root.rglob("*")
        if path.is_file() and _modified_since(path, started)
    ]

    assert pdf.status_code == bundle.status_code == 200
    assert canary in bundle.content
    assert [p for p in written if canary in _read(p)] == []
    assert canary.decode() not in caplog.text


def _modified_since(path: Path, started: float) -> bool:
    try:
        return path.stat().st_mtime >= started
    except OSError:
        return False


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_a_missing_font_is_named_with_what_to_install(tmp_path: Path) -> None:
    """A configured font that is not there refuses with the package to install."""
    with pytest.raises(ExportFontMissing, match="fonts-wqy-zenhei"):
        find_font(tmp_path / "missing.ttf")
