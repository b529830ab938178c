"""The "there is news" mail about a reporter's later message never reaches the person that
message names, even when a process delivers mail at the hour before any jobs round ran
(cases/notify/smtp.py, cases/access/held.py; docs/access.md "Names in a reporter's later
messages").

The attack: 张伟, an investigator on the team covering for the accused, waits for the mail.
The reporter writes at 10:20 that 张伟 covers for the accused; the message, and the people it
names, are held until 11:00. A mail to the whole team is queued for 11:00. If a process
delivers it before the jobs round releases the held mention, 张伟 learns, to the hour, that
the reporter wrote again, an hour before he loses the case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import login
from support.staff_http import app_world
from support.staff_world import SECRET, ZONE

from cases.clock import FixedClock
from cases.db import unit_of_work
from cases.notify.models import OutboxMessage
from cases.notify.smtp import Delivery, SmtpSender
from portal.jobs import JobConfig, JobRunner

FILED_AT = datetime(2026, 3, 2, 9, 20)
WRITTEN_AT = datetime(2026, 3, 2, 10, 20)
HOUR = datetime(2026, 3, 2, 11, 0)
WORDS = "张伟一直在帮他隐瞒，还让我别再提这件事。"


@pytest.fixture
def world(app: Any, app_db: sessionmaker[Session]) -> dict[str, Any]:
    """The General channel's team: 张伟 and Ana, investigators."""
    with app_world(app, app_db) as made:
        made.staff("zw@corp.example", "investigator", name="张伟")
        made.staff("ana@corp.example", "investigator", name="Ana")
        ids = {"channel": made.channel.id, "category": made.category().id}
    return {"clock": made.clock, "ids": ids, "db": app_db}


def jobs_round(app_db: sessionmaker[Session], clock: FixedClock) -> None:
    JobRunner(app_db, clock, JobConfig("https://portal.example", ZONE, SECRET, 180)).run_once()


def deliver(app_db: sessionmaker[Session], clock: FixedClock, smtp: Any) -> int:
    """One process's mail delivery, with no jobs round before it in this process."""
    return Delivery(app_db, clock, SmtpSender(smtp.url), server_secret=SECRET).drain()


def recipients(smtp: Any, since: int = 0) -> list[str]:
    return sorted(rcpt for _sender, rcpts in smtp.envelopes[since:] for rcpt in rcpts)


def file_and_list(client: Any, world: dict[str, Any], smtp: Any) -> str:
    """A report naming nobody, filed at 09:20, listed and announced at 10:00: the receipt."""
    clock, app_db = world["clock"], world["db"]
    clock.current = FILED_AT
    body = {**world["ids"], "summary": "订单问题", "details": "上个月的订单被转给了另一家公司。"}
    filed = client.post(
        "/api/v1/reports", json={**body, "subjects": [], "exclude": [], "identity": None}
    )
    assert filed.status_code == 201, filed.text
    clock.current = datetime(2026, 3, 2, 10, 0)
    jobs_round(app_db, clock)
    assert deliver(app_db, clock, smtp) == 2
    return str(filed.json()["receipt"])


def test_a_mail_delivered_before_the_jobs_round_never_reaches_the_person_named(
    client: Any, world: dict[str, Any], smtp_server: Any
) -> None:
    """At 11:00 a process delivers mail before the jobs round: Ana hears there is news, 张伟
    does not, and his mail is gone from the outbox, not waiting (on the code before, both got
    the mail at 11:00)."""
    clock, app_db = world["clock"], world["db"]
    receipt = file_and_list(client, world, smtp_server)
    announced = len(smtp_server.envelopes)
    clock.current = WRITTEN_AT
    sent = client.post(
        "/api/v1/reporter/messages", json={"body": WORDS}, headers=login(client, receipt)
    )
    assert sent.status_code == 201, sent.text

    clock.current = HOUR
    deliver(app_db, clock, smtp_server)
    jobs_round(app_db, clock)
    deliver(app_db, clock, smtp_server)
    with unit_of_work(app_db) as db:
        left = list(
            db.scalars(select(OutboxMessage.to_address).where(OutboxMessage.status == "pending"))
        )

    assert recipients(smtp_server, announced) == ["ana@corp.example"]
    assert left == []
