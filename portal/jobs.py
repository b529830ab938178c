"""Background work from the database: outbox delivery, reminders and sweeps, under leases.

Every app process (and host) runs the same loop. A job runs only in the process that holds
its lease in `job_leases`; the lease is taken in the job's own transaction, so a second
process blocks on the row (PostgreSQL) or the write lock (SQLite) and then finds the
lease taken. The holder renews it each round; if it dies, another takes over once the
lease runs out. Outbox delivery needs no job lease: each mail row carries its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from cases.access.held import release_mentions
from cases.access.protection import ProtectionService
from cases.audit.service import AuditLog
from cases.clock import Clock, SystemClock, local_day
from cases.db import new_id, unit_of_work
from cases.notify.service import NotifyConfig, Outbox
from cases.notify.smtp import Delivery, Sender, SmtpSender, acquire_job, finish_job
from cases.reports.arrivals import release as release_arrivals
from cases.reports.attachments import sweep_unlinked
from cases.reports.conversation import release_held
from cases.reports.handover import Handovers
from cases.reports.keys import KeyRing
from cases.retention import RetentionConfig, RetentionService, reclaim_space, touched_tables
from cases.rewards.answers import release as release_answers
from cases.row_order import blur, blurred_tables
from cases.sessions.service import SessionService, Throttle
from portal.settings import Settings

logger = logging.getLogger("portal.jobs")

Job = Callable[[Session], int]


@dataclass(frozen=True)
class JobConfig:
    base_url: str
    zone: ZoneInfo
    server_secret: bytes
    lease_seconds: int
    mail_from: str = "no-reply@localhost"

    @classmethod
    def of(cls, settings: Settings) -> JobConfig:
        return cls(
            settings.base_url,
            settings.timezone,
            settings.secret_key.reveal(),
            # Longer than one round, so the holder renews before anyone else may take over.
            settings.job_interval_seconds * 3,
            settings.mail_from,
        )


class JobRunner:
    """One process's share of the background work; `run_once` is one round."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        config: JobConfig,
        *,
        sender: Sender | None = None,
        owner: str | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.config = config
        self.sender = sender
        self.owner = owner or new_id()

    def run_once(self) -> dict[str, int]:
        """Run every job whose lease this runner gets; returns what each did, by name."""
        done: dict[str, int] = {}
        for name, job in self.jobs().items():
            result = self._leased(name, job)
            if result is not None:
                done[name] = result
        if done.get("retention"):
            # After the deleting transaction committed: VACUUM runs outside any transaction.
            reclaim_space(self.factory.kw["bind"], touched_tables())
        if done.get("row_order"):
            # The WAL and PostgreSQL's dead row versions still hold the rows in their old
            # order: checkpoint and truncate the WAL, vacuum the old versions away.
            reclaim_space(self.factory.kw["bind"], [t.name for t in blurred_tables()])
        if self.sender is not None:
            done["deliver"] = Delivery(
                self.factory,
                self.clock,
                self.sender,
                from_address=self.config.mail_from,
                server_secret=self.config.server_secret,
                worker=self.owner,
            ).drain()
        return done

    def jobs(self) -> dict[str, Job]:
        return {
            "deadline_reminders": self.deadline_reminders,
            "measure_reminders": self.measure_reminders,
            "sweep": self.sweep,
            "retention": self.retention,
            "row_order": self.row_order,
        }

    def deadline_reminders(self, db: Session) -> int:
        return self._outbox(db).deadline_reminders()

    def measure_reminders(self, db: Session) -> int:
        today = local_day(self.clock.now(), self.config.zone)
        audit = AuditLog(db, self.clock, self.config.server_secret)
        due = ProtectionService(db, self.clock, audit).due(today)
        return self._outbox(db).measure_reminders(due)

    def sweep(self, db: Session) -> int:
        """Expired sessions, old throttle counters and uploads whose report never came; audit
        entries of reporters' requests, held back until their day is over; reporters'
        messages, held out of the conversation's order until their hour has come (the people
        they name lose the case first); new cases and reporters' later files, held from staff
        until their hour; and
        receipt pages whose short-lived link has run out; keys handed on at reporters' visits,
        held from their new holders until the hour too; and reporters' answers to reward
        offers, held from staff until the hour."""
        audit = AuditLog(db, self.clock, self.config.server_secret)
        return (
            SessionService(db, self.clock).sweep()
            + Throttle(db, self.clock).sweep()
            + sweep_unlinked(db, self.clock)
            + audit.release_held()
            # The people a held message names lose the case first (cases/access/held.py).
            + release_mentions(db, self.clock, self.config.server_secret, self.clock.now())
            + release_held(db, self.clock.now())
            # New cases and a reporter's later files whose hour has come (arrivals.py).
            + release_arrivals(db, self.clock.now())
            # Keys handed on at reporters' visits, stored for their new holders at the hour.
            + KeyRing(db, audit, self.config.server_secret).release_handed(self.clock.now())
            # Reporters' answers to reward offers, shown to staff at the hour (answers.py).
            + release_answers(db, self.clock.now(), self.config.zone)
            + Handovers(db, self.clock, self.config.server_secret).sweep()
        )

    def row_order(self, db: Session) -> int:
        """Once an hour, rows written since lose the order they were written in (rowids,
        transaction ids): a reporter's rows say no more than their hour (cases/row_order.py).
        After `sweep`, so held messages released this round are among them."""
        return blur(db, self.clock.now())

    def retention(self, db: Session) -> int:
        """Cases past their channel's retention period, not on hold, deleted for good."""
        config = RetentionConfig(self.config.zone, self.config.server_secret)
        return RetentionService(db, self.clock, config).run()

    def _outbox(self, db: Session) -> Outbox:
        return Outbox(db, self.clock, NotifyConfig(self.config.base_url, self.config.zone))

    def _leased(self, name: str, job: Job) -> int | None:
        with unit_of_work(self.factory) as db:
            now = self.clock.now()
            if not acquire_job(db, name, self.owner, now, self.config.lease_seconds):
                return None
            done = job(db)
            finish_job(db, name, self.clock.now())
            return done


class JobLoop:
    """A daemon thread that runs a round, then waits the interval, until stopped."""

    def __init__(self, runner: JobRunner, interval_seconds: float) -> None:
        self.runner = runner
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="portal-jobs", daemon=True)
        # time.monotonic() when the last round finished (None before the first): /metrics.
        self.last_round: float | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.round()
            self._stop.wait(self.interval)

    def round(self) -> None:
        try:
            self.runner.run_once()
        except Exception as exc:  # the loop must outlive a bad round; the next one retries
            # The class name only: messages can carry addresses or SQL parameters.
            logger.error("background jobs failed: %s", type(exc).__name__)
        self.last_round = time.monotonic()


def job_loop(settings: Settings, factory: sessionmaker[Session], clock: Clock | None) -> JobLoop:
    """The loop `create_app` starts when `settings.run_jobs` is on."""
    smtp = settings.smtp_url.reveal().decode() if settings.smtp_url else None
    runner = JobRunner(
        factory,
        clock or SystemClock(),
        JobConfig.of(settings),
        sender=SmtpSender(smtp) if smtp else None,
    )
    return JobLoop(runner, settings.job_interval_seconds)
