"""The outbox and its delivery job against a real database and a real SMTP server."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.db import TEST_SECRET
from support.staff_world import ZONE, build_world

from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.errors import Invalid
from cases.notify.models import OutboxMessage
from cases.notify.service import NotifyConfig, Outbox
from cases.notify.smtp import Delivery, SmtpSender, acquire_job
from cases.staff.models import StaffAccount

CONFIG = NotifyConfig("https://portal.example", ZONE)


def test_reporter_triggered_mail_is_rounded_to_the_hour(db_session: Session) -> None:
    """Filing queues a mail per key holder, timed at the next full hour, with no content."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 17, 42))
    world = build_world(db_session, clock)
    world.staff("ana@example.com")

    case = world.file("Secret summary text").case
    again = Outbox(db_session, clock, CONFIG).case_filed(case)

    row = db_session.scalars(select(OutboxMessage)).one()
    assert again == 0
    assert row.created_at == row.next_attempt_at == datetime(2026, 3, 2, 10, 0)
    assert "Secret" not in row.body
    assert case.reference not in row.body + row.subject
    assert "https://portal.example/staff/login" in row.body


def test_job_lease_has_one_holder(db_session: Session, clock: FixedClock) -> None:
    """A second owner cannot take a live lease; it can once the lease has expired."""
    now = clock.now()

    first = acquire_job(db_session, "reminders", "a", now, 60)
    second = acquire_job(db_session, "reminders", "b", now, 60)
    later = acquire_job(db_session, "reminders", "b", now.replace(hour=now.hour + 1), 60)

    assert (first, second, later) == (True, False, True)


@pytest.fixture
def shared_db(fresh_database: Callable[..., str]) -> Any:
    engine = make_engine(fresh_database())
    yield session_factory(engine, TEST_SECRET)
    engine.dispose()


def test_mail_arrives_over_smtp_without_content(shared_db: Any, smtp_server: Any) -> None:
    """The delivery job sends a queued mail to a real SMTP server; it says only 'log in'."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 17))
    with unit_of_work(shared_db) as db:
        world = build_world(db, clock)
        world.staff("ana@example.com")
        world.file("Confidential summary")
    clock.advance(hours=1)

    sent = Delivery(
        shared_db, clock, SmtpSender(smtp_server.url), server_secret=TEST_SECRET
    ).drain()
    (mail,) = smtp_server.wait_for(1)

    assert sent == 1
    assert mail["To"] == "ana@example.com"
    assert "Confidential" not in mail.as_string()
    assert "https://portal.example/staff/login" in mail.get_content()


def test_two_workers_send_each_mail_once(shared_db: Any, smtp_server: Any) -> None:
    """Two delivery workers in two threads, one database: every queued mail arrives once."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    with unit_of_work(shared_db) as db:
        world = build_world(db, clock)
        for n in range(12):
            world.staff(f"person{n:02}@example.com")
        for n in range(5):
            Outbox(db, clock, CONFIG).case_filed(world.file(f"case {n}").case)
    workers = [
        Delivery(shared_db, clock, SmtpSender(smtp_server.url), server_secret=TEST_SECRET, worker=w)
        for w in "ab"
    ]
    threads = [threading.Thread(target=w.drain) for w in workers]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    smtp_server.wait_for(60)
    time.sleep(0.5)  # room for a duplicate to arrive, were one sent
    with unit_of_work(shared_db) as db:
        statuses = list(db.scalars(select(OutboxMessage.status)))

    recipients = [rcpt for _sender, rcpts in smtp_server.envelopes for rcpt in rcpts]
    assert len(recipients) == 60
    assert set(Counter(recipients).values()) == {5}
    assert statuses == ["sent"] * 60


def test_an_address_with_a_line_break_fails_alone(shared_db: Any, smtp_server: Any) -> None:
    """A queued mail whose address holds a line break is marked failed; the next one arrives."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    with unit_of_work(shared_db) as db:
        outbox = Outbox(db, clock, CONFIG)
        outbox._enqueue("evil@example.com\nBcc: spy@example.com", "test", "bad", clock.now())
        outbox._enqueue("ana@example.com", "test", "good", clock.now() + timedelta(seconds=1))
    clock.advance(minutes=1)

    sent = Delivery(
        shared_db, clock, SmtpSender(smtp_server.url), server_secret=TEST_SECRET
    ).run_once()
    (mail,) = smtp_server.wait_for(1)

    with unit_of_work(shared_db) as db:
        statuses = dict(db.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status)).all())
    assert sent == 1
    assert mail["To"] == "ana@example.com"
    assert statuses == {"bad": "failed", "good": "sent"}


def test_a_staff_address_with_a_line_break_is_refused(db_session: Session) -> None:
    """Creating an account whose e-mail carries a header line stores nothing."""
    world = build_world(db_session, FixedClock())

    with pytest.raises(Invalid) as refused:
        world.staff("evil@example.com\nBcc: spy@example.com")

    assert refused.value.fields == {"email": "invalid"}
    assert db_session.scalars(select(StaffAccount)).all() == []
