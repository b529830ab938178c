"""The background jobs against a real database: reminders, sweeps, delivery, two runners."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from support.db import TEST_SECRET
from support.staff_world import SECRET, ZONE, build_world

from cases.access.models import ProtectiveMeasure
from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.notify.models import OutboxMessage
from cases.notify.smtp import SmtpSender
from cases.reports.models import Case, CaseExclusion, Status
from cases.sessions.models import UserSession
from cases.sessions.service import SessionPolicy, SessionService
from cases.staff.models import StaffAccount
from portal.jobs import JobConfig, JobRunner

CONFIG = JobConfig("https://portal.example", ZONE, SECRET, 180)


@pytest.fixture
def shared_db(fresh_database: Callable[..., str]) -> Any:
    engine = make_engine(fresh_database())
    yield session_factory(engine, TEST_SECRET)
    engine.dispose()


def seed(factory: Any, clock: FixedClock) -> dict[str, Any]:
    """An investigator, a retaliation officer, an overdue case and a due protective measure."""
    with unit_of_work(factory) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        world.staff("rita@example.com", "retaliation_officer")
        case = world.file().case
        case.status = Status.CLOSED
        overdue = world.file("Still open").case
        overdue.due_on = clock.now().date()
        db.add(
            ProtectiveMeasure(
                case_id=case.id,
                sealed=b"x",
                follow_up_on=clock.now().date(),
                created_by=ana.account.id,
            )
        )
        SessionService(db, clock).open(
            "staff", b"k" * 32, SessionPolicy(60, 60), staff_id=ana.account.id
        )
        # Filing queued its new-case mails; these tests count the jobs' own mails only.
        db.execute(delete(OutboxMessage))
    return {"case": case.id, "overdue": overdue.id}


def kinds(factory: Any) -> list[tuple[str, str]]:
    with unit_of_work(factory) as db:
        rows = db.execute(select(OutboxMessage.kind, OutboxMessage.to_address)).all()
    return sorted((kind, to) for kind, to in rows)


def test_reminders_reach_the_team_and_officers_once_per_day(shared_db: Any) -> None:
    """A due measure on a closed case and a near deadline each queue one mail per person and day."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    seed(shared_db, clock)
    runner = JobRunner(shared_db, clock, CONFIG)

    first = runner.run_once()
    second = runner.run_once()

    assert first["measure_reminders"] == 2
    assert first["deadline_reminders"] == 1
    assert second["measure_reminders"] == second["deadline_reminders"] == 0
    assert kinds(shared_db) == [
        ("deadline", "ana@example.com"),
        ("measure", "ana@example.com"),
        ("measure", "rita@example.com"),
    ]


def test_sweep_removes_expired_sessions(shared_db: Any) -> None:
    """Once a session has expired the sweep job deletes its row."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    seed(shared_db, clock)
    clock.advance(hours=1)

    done = JobRunner(shared_db, clock, CONFIG).run_once()
    with unit_of_work(shared_db) as db:
        left = db.scalar(select(func.count()).select_from(UserSession))

    assert done["sweep"] >= 1
    assert left == 0


def test_a_second_runner_skips_leased_jobs_until_the_lease_ends(shared_db: Any) -> None:
    """While one runner holds the leases another does nothing; after they lapse it takes over."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    seed(shared_db, clock)
    first, second = (JobRunner(shared_db, clock, CONFIG, owner=o) for o in ("a", "b"))

    ran = first.run_once()
    skipped = second.run_once()
    clock.advance(seconds=CONFIG.lease_seconds + 1)
    taken = second.run_once()

    assert set(ran) == {
        "deadline_reminders",
        "measure_reminders",
        "sweep",
        "retention",
        "row_order",
    }
    assert skipped == {}
    assert set(taken) == set(ran)


def test_two_runners_in_threads_do_each_piece_of_work_once(
    shared_db: Any, smtp_server: Any
) -> None:
    """Two runners at once on one database queue each reminder once and send each mail once."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    seed(shared_db, clock)
    sender = SmtpSender(smtp_server.url)
    runners = [JobRunner(shared_db, clock, CONFIG, sender=sender, owner=o) for o in "ab"]
    results: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda r=r: results.append(r.run_once())) for r in runners]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    smtp_server.wait_for(3)

    recipients = sorted(r for _s, rcpts in smtp_server.envelopes for r in rcpts)
    assert sum(r.get("measure_reminders", 0) + r.get("deadline_reminders", 0) for r in results) == 3
    assert sum(r["deliver"] for r in results) == 3
    assert recipients == ["ana@example.com", "ana@example.com", "rita@example.com"]


def test_measure_reminders_skip_people_the_policy_excludes(shared_db: Any) -> None:
    """An officer who recused from the case gets no reminder for its measure."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    ids = seed(shared_db, clock)
    with unit_of_work(shared_db) as db:
        rita = db.scalars(
            select(StaffAccount).where(StaffAccount.email == "rita@example.com")
        ).one()
        db.add(CaseExclusion(case_id=ids["case"], staff_id=rita.id, reason="recused"))
        db.get(Case, ids["overdue"]).due_on = clock.now().date() + timedelta(days=30)  # type: ignore[union-attr]

    JobRunner(shared_db, clock, CONFIG).run_once()

    assert kinds(shared_db) == [("measure", "ana@example.com")]


def _settings(tmp_path: Any, **env: str) -> Any:
    from portal.settings import Settings

    return Settings.from_environ({"PORTAL_DATA_DIR": str(tmp_path), **env})


def test_mail_leaves_from_the_configured_address(
    shared_db: Any, smtp_server: Any, tmp_path: Any
) -> None:
    """A relay that checks the sender's domain refuses no-reply@localhost: the From and the
    envelope sender are PORTAL_MAIL_FROM, else no-reply@ the public host name."""
    from portal.settings import SettingsError

    assert _settings(tmp_path).mail_from == "no-reply@localhost"
    assert _settings(tmp_path, PORTAL_BASE_URL="https://127.0.0.1:8443").mail_from == (
        "no-reply@localhost"
    )
    derived = _settings(tmp_path, PORTAL_BASE_URL="https://Speakup.Corp.example/")
    assert derived.mail_from == "no-reply@speakup.corp.example"
    for bad in ("Compliance <c@corp.example>", "c@corp.example\r\nBcc: x@evil.example", "c"):
        with pytest.raises(SettingsError, match="PORTAL_MAIL_FROM"):
            _settings(tmp_path, PORTAL_MAIL_FROM=bad)
    configured = _settings(tmp_path, PORTAL_MAIL_FROM="alerts@corp.example")

    clock = FixedClock(datetime(2026, 3, 2, 9, 0))
    seed(shared_db, clock)
    config = JobConfig.of(configured)
    JobRunner(shared_db, clock, config, sender=SmtpSender(smtp_server.url)).run_once()

    messages = smtp_server.wait_for(3)
    assert {m["From"] for m in messages} == {"alerts@corp.example"}
    assert {sender for sender, _rcpts in smtp_server.envelopes} == {"alerts@corp.example"}
