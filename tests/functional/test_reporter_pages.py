"""The reporter's HTML pages over HTTP: form, receipt, check, status, reply, evidence, logout."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import (
    CSRF,
    NO_FILE,
    PASSWORD,
    counts,
    fields,
    form_tokens,
    seed,
    staff_reply,
)
from support.staff_world import key_ring

import crypto
from cases.clock import SystemClock
from cases.db import unit_of_work
from cases.principals import StaffPrincipal
from cases.reports.attachments import AttachmentReader
from cases.reports.keys import CASE
from cases.reports.models import Case, CaseItem
from cases.staff.service import StaffService


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 90, 200))
    exif = Image.Exif()
    exif[0x010F] = "CanaryCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def two_files() -> list[tuple[str, tuple[str, io.BytesIO, str]]]:
    return [
        ("files", ("photo.jpg", io.BytesIO(jpeg_with_gps()), "image/jpeg")),
        ("files", ("notes.txt", io.BytesIO(b"meeting notes"), "text/plain")),
    ]


def file_report(client: Any, ids: dict[str, str]) -> Any:
    return client.post("/report", data=fields(ids, form_tokens(client)), files=two_files())


def test_form_renders_categories_and_a_csrf_field(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """GET /report shows the channel's categories, the recipients and a CSRF field."""
    seed(app_db)

    response = client.get("/report", headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 200
    assert response.template.name == "reporter/form.html"
    assert any(c["name"].startswith("飞单") for c in response.context["categories"])
    assert response.context["recipients"][0]["name"] == "Ina"
    assert CSRF.search(response.text)


def test_filing_redirects_to_a_receipt_page_shown_once(
    client: Any, app_db: sessionmaker[Session], engine: Any
) -> None:
    """The form's answer is a 303 with no receipt in any header or cookie (a browser keeps the
    body of a form answered by a page); while the link waits, the database holds the receipt
    only sealed; the page behind it shows the receipt once, then the link opens nothing."""
    ids = seed(app_db)

    answer = client.post(
        "/report", data=fields(ids, form_tokens(client)), files=two_files(), follow_redirects=False
    )
    with engine.connect() as connection:
        stored = [bytes(row[0]) for row in connection.execute(text("SELECT sealed FROM handovers"))]
    link = answer.headers["location"]
    page = client.get(link)
    again = client.get(link)
    receipt = page.context["receipt"]
    with engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM handovers")).scalar()

    assert answer.status_code == 303
    assert link.startswith("/report/done/")
    assert receipt not in str(answer.headers) + str(page.headers)
    assert all(receipt not in value for value in client.cookies.values())
    assert len(stored) == 1
    assert receipt.encode() not in stored[0]
    assert link.rsplit("/", 1)[1].encode() not in stored[0]
    assert page.status_code == 200
    assert page.template.name == "reporter/done.html"
    crypto.parse_receipt(receipt)
    assert receipt in page.text
    assert left == 0
    assert again.status_code == 410
    assert receipt not in again.text
    assert counts(app_db)[:2] == (1, 2)


def test_jpeg_with_gps_comes_back_to_staff_without_it(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """A JPEG sent with GPS EXIF decrypts for staff without EXIF, and still opens as an image."""
    ids = seed(app_db)
    file_report(client, ids)

    with unit_of_work(app_db) as db:
        service = StaffService(
            db, SystemClock(), server_secret=b"t" * 32, profile=crypto.PROFILES["test"]
        )
        account = service.by_email("ina@example.com")
        assert account is not None
        principal = StaffPrincipal(account, service.check_password(account, PASSWORD))
        case = db.scalars(select(Case)).one()
        key = key_ring(db).open_for_staff(case.id, CASE, principal)
        assert key is not None
        reader = AttachmentReader(db)
        # Renamed: the reporter did not tick "keep my file names".
        photo = next(f for f in reader.files(case.id, key) if f.name == "evidence-1.jpg")
        data = b"".join(reader.open(case.id, photo.id, key).chunks)

    image = Image.open(io.BytesIO(data))
    image.load()
    assert photo.cleaned
    assert b"CanaryCam" not in data
    assert not image.getexif()
    assert not image.getexif().get_ifd(0x8825)
    assert image.size == (40, 30)


def test_form_without_csrf_is_403_and_stores_nothing(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """A form with no CSRF token, or with the token after a file, is refused; nothing stored."""
    ids = seed(app_db)
    tokens = form_tokens(client)
    no_token = fields(ids, {"once": tokens["once"]})

    missing = client.post("/report", data=no_token, files=two_files())
    late = client.post(
        "/report",
        files=[*two_files(), ("csrf", (None, tokens["csrf"])), ("summary", (None, "x"))],
    )

    assert missing.status_code == 403
    assert late.status_code == 403
    assert counts(app_db) == (0, 0, 0)


def test_replayed_form_changes_nothing(client: Any, app_db: sessionmaker[Session]) -> None:
    """Sending the same form twice files one report; the second lands on "already filed"."""
    ids = seed(app_db)
    tokens = form_tokens(client)

    first = client.post("/report", data=fields(ids, tokens), files=NO_FILE)
    again = client.post("/report", data=fields(ids, tokens), files=two_files())

    assert first.status_code == 200  # the receipt page, after the redirect
    assert again.status_code == 200  # the "already filed" page, after the redirect
    assert counts(app_db) == (1, 0, 0)


def test_honeypot_is_400_and_stores_nothing(client: Any, app_db: sessionmaker[Session]) -> None:
    """Anything in the hidden "leave empty" field gets a plain 400 and nothing is stored."""
    ids = seed(app_db)

    response = client.post(
        "/report", data=fields(ids, form_tokens(client), website="http://spam"), files=two_files()
    )

    assert response.status_code == 400
    assert counts(app_db) == (0, 0, 0)


def test_validation_error_keeps_what_was_typed(client: Any, app_db: sessionmaker[Session]) -> None:
    """A missing summary re-shows the form with the message by the field and every value kept."""
    ids = seed(app_db)

    response = client.post(
        "/report",
        data=fields(ids, form_tokens(client), summary=""),
        files=two_files(),
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert response.template.name == "reporter/form.html"
    assert response.context["errors"] == {"summary": "Please fill this in."}
    assert response.context["values"]["details"].startswith("销售王伟")
    assert response.context["subject_rows"][0]["name"] == "王伟"
    assert 'aria-describedby="summary-error"' in response.text
    assert counts(app_db) == (0, 0, 0)


def test_empty_file_is_refused_and_nothing_is_filed(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """A chosen file with no bytes is a 422; an unused file input is simply ignored."""
    ids = seed(app_db)

    empty = client.post(
        "/report",
        data=fields(ids, form_tokens(client)),
        files=[("files", ("empty.pdf", io.BytesIO(b""), "application/pdf"))],
    )
    unused = client.post(
        "/report",
        data=fields(ids, form_tokens(client)),
        files=NO_FILE,
    )

    assert empty.status_code == 422
    assert unused.status_code == 200
    assert counts(app_db)[:2] == (1, 0)


def test_check_step_confirms_a_right_code_and_refuses_a_wrong_one(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """Typing the receipt back says it is right; a typo gets the hint; no session is opened."""
    ids = seed(app_db)
    receipt = file_report(client, ids).context["receipt"]
    csrf = form_tokens(client)["csrf"]

    right = client.post("/report/check", data={"csrf": csrf, "receipt": receipt.lower()})
    typo = client.post("/report/check", data={"csrf": csrf, "receipt": receipt[:-1] + "*"})

    assert right.status_code == 200
    assert right.context["error"] is None
    assert typo.status_code == 422
    assert typo.context["error"]
    assert "__Host-reporter" not in client.cookies


def test_status_journey_read_reply_evidence_logout(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """Log in by POST, read the staff reply, answer, add a file, log out."""
    ids = seed(app_db)
    receipt = file_report(client, ids).context["receipt"]
    staff_reply(app_db, ids["staff"], "请问是哪一个订单？")
    csrf = form_tokens(client)["csrf"]

    login = client.post("/status", data={"csrf": csrf, "receipt": receipt}, follow_redirects=False)
    page = client.get("/status")
    replied = client.post("/status/reply", data={"csrf": csrf, "body": "订单 A-1001"})
    evidence = client.post(
        "/status/evidence",
        data={"csrf": csrf},
        files=[("files", ("contract.pdf", io.BytesIO(b"%PDF-1.4 contract"), "application/pdf"))],
    )
    out = client.post("/status/logout", data={"csrf": csrf})
    after = client.get("/status")

    assert login.status_code == 303
    assert login.headers["location"] == "/status"
    assert page.template.name == "reporter/status.html"
    assert "请问是哪一个订单？" in page.text
    assert replied.template.name == "reporter/status.html"
    assert "The case team will see it from the next full hour" in replied.text
    assert [m.body for m in replied.context["view"].messages] == [
        "请问是哪一个订单？",
        "订单 A-1001",
    ]
    # Renamed and numbered across the case: the reporter did not keep their file names.
    assert sorted(f.name for f in evidence.context["view"].attachments) == [
        "evidence-1.jpg",
        "evidence-2.txt",
        "evidence-3.pdf",
    ]
    assert out.template.name == "reporter/logged_out.html"
    assert after.template.name == "reporter/login.html"
    with unit_of_work(app_db) as db:
        mine = db.scalars(select(CaseItem).where(CaseItem.author == "reporter")).one()
        # Only the full hour it is held until (cases/reports/conversation.py), never the minute.
        assert mine.created_at is not None
        assert (mine.created_at.minute, mine.created_at.second) == (0, 0)
        assert mine.seq < 0


def test_wrong_receipt_on_the_status_page_is_401_with_the_form_again(
    client: Any, app_db: sessionmaker[Session]
) -> None:
    """A wrong code shows the form again with a message next to the field, status 401."""
    seed(app_db)
    csrf = form_tokens(client)["csrf"]

    response = client.post(
        "/status", data={"csrf": csrf, "receipt": crypto.new_receipt().formatted()}
    )

    assert response.status_code == 401
    assert response.template.name == "reporter/login.html"
    assert response.context["error"]
    assert 'aria-describedby="receipt-error"' in response.text


def test_check_step_refuses_a_large_body(client: Any, app_db: sessionmaker[Session]) -> None:
    """The check form lies under the upload prefix but still takes only a small body."""
    seed(app_db)
    csrf = form_tokens(client)["csrf"]

    response = client.post("/report/check", data={"csrf": csrf, "receipt": "x" * 600_000})

    assert response.status_code == 413
