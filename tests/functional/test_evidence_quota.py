"""Evidence after filing has a total per case and a daily number of files per receipt."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import login, report_body, seed

from cases.db import unit_of_work
from cases.reports.models import Attachment


def upload(client: Any, headers: dict[str, str], size: int) -> Any:
    data = io.BytesIO(b"e" * size)
    return client.post(
        "/api/v1/reporter/attachments",
        files={"file": ("note.txt", data, "text/plain")},
        headers=headers,
    )


def linked(app_db: sessionmaker[Session]) -> int:
    with unit_of_work(app_db) as db:
        stmt = select(func.count()).select_from(Attachment).where(Attachment.linked.is_(True))
        return int(db.scalar(stmt) or 0)


def limit(app: Any, **changes: int) -> None:
    settings = app.state.settings
    app.state.settings = replace(settings, limits=replace(settings.limits, **changes))


def test_case_quota_refuses_the_file_that_would_pass_it(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """With 10 kB per case, two 4 kB files are kept, a third is refused (409) and not kept."""
    limit(app, evidence_max_case=10_000)
    ids = seed(app_db)
    headers = login(client, client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"])

    answers = [upload(client, headers, 4_000) for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 409]
    assert answers[2].json()["error"] == "evidence_quota"
    assert "message" in answers[2].json()
    assert linked(app_db) == 2
    with unit_of_work(app_db) as db:
        assert db.scalar(select(func.count()).select_from(Attachment)) == 2


def test_daily_file_allowance_is_a_clear_429(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """With two files a day, the third upload that day is refused with 429 before streaming."""
    limit(app, evidence_files_per_day=2)
    ids = seed(app_db)
    headers = login(client, client.post("/api/v1/reports", json=report_body(ids)).json()["receipt"])

    answers = [upload(client, headers, 100) for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert "tomorrow" in answers[2].json()["message"]
    assert linked(app_db) == 2
